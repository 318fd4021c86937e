package discord_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discord"
)

func TestSnowflakeJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    discord.Snowflake
		wantErr bool
	}{
		{`"175928847299117063"`, 175928847299117063, false},
		{`175928847299117063`, 175928847299117063, false},
		{`"18446744073709551615"`, 18446744073709551615, false},
		{`null`, 0, false},
		{`"18446744073709551616"`, 0, true},
		{`"-1"`, 0, true},
		{`""`, 0, true},
		{`1.5`, 0, true},
		{`"12 "`, 0, true},
		{`true`, 0, true},
		{`{}`, 0, true},
	}
	for _, tt := range tests {
		var got discord.Snowflake
		err := json.Unmarshal([]byte(tt.in), &got)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error, got %d", tt.in, got)
			} else if !errors.Is(err, discord.ErrBadSnowflake) && !strings.Contains(err.Error(), "cannot unmarshal") {
				t.Errorf("%s: error %v is not ErrBadSnowflake", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: got %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	b, err := json.Marshal(struct {
		ID  discord.Snowflake            `json:"id"`
		Opt discord.Snowflake            `json:"opt,omitempty"`
		M   map[discord.Snowflake]string `json:"m"`
	}{ID: 42, M: map[discord.Snowflake]string{7: "x"}})
	if err != nil || string(b) != `{"id":"42","m":{"7":"x"}}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
}

func TestSnowflakeTimestampAndShard(t *testing.T) {
	id := discord.Snowflake(175928847299117063)
	want := time.Date(2016, 4, 30, 11, 18, 25, 796e6, time.UTC)
	if !id.Timestamp().Equal(want) {
		t.Fatalf("timestamp %v, want %v", id.Timestamp(), want)
	}

	if got, want := id.ShardID(16), int((uint64(id)>>22)%16); got != want {
		t.Fatalf("shard %d want %d", got, want)
	}
	if id.ShardID(0) != 0 || id.ShardID(1) != 0 {
		t.Fatal("ShardID with ≤1 shards must be 0")
	}
	if discord.Snowflake(5<<22).ShardID(3) != 2 {
		t.Fatal("shard formula")
	}
}

func TestComponentRoundTripsUnknownTypes(t *testing.T) {
	in := `[{"type":98,"accent_color":255,"components":[{"type":10,"content":"hi"}],"spoiler":false},` +
		`{"type":1,"components":[{"type":2,"custom_id":"go","style":1,"label":"Go"},{"type":99,"new_field":[1,2]}]}]`
	var cs []discord.Component
	if err := json.Unmarshal([]byte(in), &cs); err != nil {
		t.Fatal(err)
	}
	if cs[0].Raw == nil || cs[1].Raw != nil || cs[1].Components[1].Raw == nil {
		t.Fatalf("Raw kept wrongly: %+v", cs)
	}
	if cs[1].Components[0].CustomID != "go" || discord.ButtonStyle(cs[1].Components[0].Style) != discord.ButtonPrimary {
		t.Fatalf("button fields: %+v", cs[1].Components[0])
	}
	out, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip:\n got %s\nwant %s", out, in)
	}
}

func TestModalValueInsideLabelsAndRows(t *testing.T) {
	in := discord.Interaction{Type: discord.InteractionModalSubmit, Data: json.RawMessage(`{"custom_id":"m",
		"components":[{"type":1,"components":[{"type":4,"custom_id":"a","value":"one"}]},
		{"type":18,"component":{"type":4,"custom_id":"b","value":"two"}}]}`)}
	d, err := in.ModalData()
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"a": "one", "b": "two"} {
		if v, ok := d.Value(id); !ok || v != want {
			t.Errorf("%s: got %q %v", id, v, ok)
		}
	}
	if _, ok := d.Value("c"); ok {
		t.Error("missing input found")
	}
	if _, err := in.CommandData(); !errors.Is(err, discord.ErrWrongInteractionType) {
		t.Errorf("CommandData on a modal: %v", err)
	}
}

func TestOptionValues(t *testing.T) {
	o := discord.CommandOption{Name: "n", Type: discord.OptionInteger, Value: json.RawMessage(`42`)}
	if n, err := o.AsInt(); err != nil || n != 42 {
		t.Fatal(n, err)
	}
	if _, err := o.AsString(); !errors.Is(err, discord.ErrOptionValue) {
		t.Fatal(err)
	}
	o.Value = json.RawMessage(`true`)
	if b, err := o.AsBool(); err != nil || !b {
		t.Fatal(b, err)
	}
	d := discord.ApplicationCommandData{Name: "x", Options: []discord.CommandOption{{Name: "q", Type: discord.OptionString, Value: json.RawMessage(`"ab"`), Focused: true}}}
	if f := d.Focused(); f == nil || f.Name != "q" {
		t.Fatal("focused")
	}
	if p, opts := d.Path(); len(p) != 1 || len(opts) != 1 {
		t.Fatal(p, opts)
	}
}

func TestAllowedMentionsZeroPingsNobody(t *testing.T) {
	b, _ := json.Marshal(discord.MessageParams{Content: "x", AllowedMentions: &discord.AllowedMentions{}})
	if string(b) != `{"content":"x","allowed_mentions":{"parse":[]}}` {
		t.Fatalf("%s", b)
	}
	b, _ = json.Marshal(discord.InteractionResponse{Type: discord.ResponseAutocompleteResult, Data: &discord.InteractionResponseData{Choices: []discord.CommandOptionChoice{}}})
	if string(b) != `{"type":8,"data":{"choices":[]}}` {
		t.Fatalf("%s", b)
	}
}

func TestGuildCreateDecodes(t *testing.T) {
	const g = `{"id":"81384788765712384","name":"Discord API","roles":[{"id":"81384788765712384","name":"@everyone","permissions":"104320577","position":0,"color":0,"hoist":false,"managed":false,"mentionable":false}],
	"emojis":[],"features":["COMMUNITY"],"joined_at":"2015-04-26T06:26:56.936000+00:00","large":true,"member_count":2,"unavailable":false,
	"members":[{"user":{"id":"80351110224678912","username":"Nelly","discriminator":"1337","avatar":null},"nick":null,"roles":[],"joined_at":"2015-04-26T06:26:56.936000+00:00","deaf":false,"mute":false,"premium_since":null}],
	"channels":[{"id":"41771983423143937","type":0,"name":"general","position":6,"permission_overwrites":[{"id":"1","type":0,"allow":"1024","deny":"0"}],"topic":null,"last_message_id":null}],
	"threads":[],"presences":[{"user":{"id":"80351110224678912"},"status":"online","activities":[{"name":"Go","type":0,"created_at":1700000000000}],"client_status":{"desktop":"online"}}],
	"voice_states":[{"user_id":"80351110224678912","channel_id":"41771983423143937","session_id":"abc","deaf":false,"mute":false,"self_deaf":false,"self_mute":true,"self_video":false,"suppress":false}]}`
	var guild discord.Guild
	if err := json.Unmarshal([]byte(g), &guild); err != nil {
		t.Fatal(err)
	}
	if guild.Roles[0].Permissions != 104320577 || !guild.Large || guild.Members[0].User.Username != "Nelly" ||
		guild.Channels[0].PermissionOverwrites[0].Allow != discord.PermissionViewChannel || guild.Presences[0].Activities[0].Name != "Go" ||
		!guild.VoiceStates[0].SelfMute || guild.JoinedAt.Year() != 2015 || guild.Members[0].Nick != nil {
		t.Fatalf("decoded %+v", guild)
	}
}

func TestResolvedAndSelectValues(t *testing.T) {
	in := discord.Interaction{Type: discord.InteractionMessageComponent, Data: json.RawMessage(`{"custom_id":"pick","component_type":5,
		"values":["80351110224678912"],"resolved":{"users":{"80351110224678912":{"id":"80351110224678912","username":"Nelly"}},
		"members":{"80351110224678912":{"roles":["1"],"joined_at":"2015-04-26T06:26:56.936000+00:00","permissions":"8"}}}}`)}
	d, err := in.ComponentData()
	if err != nil {
		t.Fatal(err)
	}
	id, err := discord.ParseSnowflake(d.Values[0])
	if err != nil {
		t.Fatal(err)
	}
	u, ok := d.Resolved.Users[id]
	m, ok2 := d.Resolved.Members[id]
	if !ok || !ok2 || u.Username != "Nelly" || !m.Permissions.Has(discord.PermissionAdministrator) || m.Roles[0] != 1 || d.ComponentType != discord.ComponentUserSelect {
		t.Fatalf("resolved %+v", d.Resolved)
	}
	if _, err := in.ModalData(); !errors.Is(err, discord.ErrWrongInteractionType) {
		t.Fatal(err)
	}
	bad := discord.Interaction{Type: discord.InteractionApplicationCommand, Data: json.RawMessage(`{"name":5}`)}
	if _, err := bad.CommandData(); !errors.Is(err, discord.ErrBadData) {
		t.Fatalf("bad data: %v", err)
	}
}
