package discord_test

import (
	"encoding/json"
	"testing"

	"github.com/ipcord/ipcord/discord"
)

func FuzzSnowflake(f *testing.F) {
	for _, s := range []string{`"1"`, `123`, `null`, `""`, `"18446744073709551615"`, `-1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s discord.Snowflake
		if s.UnmarshalJSON(b) != nil {
			return
		}
		out, _ := s.MarshalJSON()
		var back discord.Snowflake
		if err := back.UnmarshalJSON(out); err != nil || back != s {
			t.Fatalf("%q -> %s -> %d, %v", b, out, back, err)
		}
	})
}

// FuzzComponent checks that any decodable component list re-encodes to
// JSON that decodes to the same thing.
func FuzzComponent(f *testing.F) {
	f.Add([]byte(`[{"type":1,"components":[{"type":2,"style":1,"custom_id":"a"}]}]`))
	f.Add([]byte(`[{"type":17,"components":[{"type":10,"content":"x"}]}]`))
	f.Add([]byte(`[{"type":18,"component":{"type":4,"custom_id":"b","value":"v"}}]`))
	f.Add([]byte(`[{"type":18,"component":{"type":23,"custom_id":"c","value":true}},{"type":18,"component":{"type":21,"custom_id":"r","value":null}}]`))
	f.Add([]byte(`[{"type":9,"components":[{"type":10,"content":"x"}],"accessory":{"type":11,"media":{"url":"u"}}},{"type":12,"items":[{"media":{"url":"v"}}]}]`))
	f.Add([]byte(`[{"type":99,"value":[1]},{"type":4,"value":7}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var cs []discord.Component
		if json.Unmarshal(b, &cs) != nil {
			return
		}
		out, err := json.Marshal(cs)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var back []discord.Component
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("re-decode %s: %v", out, err)
		}
		out2, _ := json.Marshal(back)
		if string(out) != string(out2) {
			t.Fatalf("not stable:\n%s\n%s", out, out2)
		}
	})
}

// FuzzInteraction decodes an interaction and runs every accessor.
func FuzzInteraction(f *testing.F) {
	f.Add([]byte(`{"id":"1","application_id":"2","type":2,"token":"t","version":1,"data":{"name":"a","type":1,"options":[{"name":"g","type":2,"options":[{"name":"s","type":1,"options":[{"name":"o","type":3,"value":"x","focused":true}]}]}]}}`))
	f.Add([]byte(`{"id":"1","type":3,"data":{"custom_id":"btn","component_type":2}}`))
	f.Add([]byte(`{"id":"1","type":5,"data":{"custom_id":"m","components":[{"type":1,"components":[{"type":4,"custom_id":"a","value":"v"}]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var in discord.Interaction
		if json.Unmarshal(b, &in) != nil {
			return
		}
		_ = in.Author()
		if d, err := in.CommandData(); err == nil {
			d.Path()
			if o := d.Focused(); o != nil {
				o.AsString()
				o.AsInt()
				o.AsFloat()
				o.AsBool()
				o.AsSnowflake()
			}
		}
		if d, err := in.ModalData(); err == nil {
			d.Value("a")
			d.Checked("a")
			d.Values("a")
		}
		in.ComponentData()
	})
}
