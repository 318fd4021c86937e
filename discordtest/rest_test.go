package discordtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// world fixture: a Server holding one guild (two channels, a role, two
// members), its Gateway, and a client identified on it.
const (
	wGuildID = 81 << 22
	wChan    = wGuildID + 1
	wChan2   = wGuildID + 2
	wRole    = wGuildID + 3
	wUser    = 5000 << 22
	wApp     = 1000000000000000001
	wToken   = "Tok3n"
)

var worldGuild = `{"id":"` + idString(wGuildID) + `","name":"world","channels":[
	{"id":"` + idString(wChan) + `","type":0,"name":"general"},
	{"id":"` + idString(wChan2) + `","type":0,"name":"second"}],
	"roles":[{"id":"` + idString(wRole) + `","name":"mods"}],
	"members":[{"user":{"id":"` + idString(wUser) + `","username":"ada"}}]}`

type restFixture struct {
	t   *testing.T
	srv *Server
	gw  *Gateway
	c   *testClient
	ctx context.Context
}

func newRESTFixture(t *testing.T) *restFixture {
	t.Helper()
	srv, err := NewServer(&ServerOptions{Token: wToken, MaxBody: 1 << 16, Application: discord.Application{ID: wApp, Name: "bot"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	g := startGateway(t, &Gateway{Server: srv, Guilds: []json.RawMessage{json.RawMessage(worldGuild)}, UserID: wApp, MaxConcurrency: 2})
	f := &restFixture{t: t, srv: srv, gw: g, ctx: testCtx(t)}
	f.c = mustDial(t, g.URL(), "v=10")
	f.c.identify(f.ctx, 0, 1)
	f.c.readUntil(f.ctx, 0, "GUILD_CREATE")
	return f
}

// do sends a request with the bot token and returns the status and the
// decoded body (nil when empty).
func (f *restFixture) do(method, path, body string) (int, map[string]any, http.Header) {
	f.t.Helper()
	status, b, h := f.raw(method, path, body, wToken)
	var out map[string]any
	if len(bytes.TrimSpace(b)) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &out); err != nil {
			f.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return status, out, h
}

// raw sends a request with a bot token and returns the status, the body
// and the headers.
func (f *restFixture) raw(method, path, body, token string) (int, []byte, http.Header) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bot "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// want checks a request's status (and Discord error code, if not 0).
func (f *restFixture) want(method, path, body string, status, code int) map[string]any {
	f.t.Helper()
	got, out, _ := f.do(method, path, body)
	if got != status || (code != 0 && out["code"] != float64(code)) {
		f.t.Fatalf("%s %s = %d %v, want %d code %d", method, path, got, out, status, code)
	}
	return out
}

// event reads gateway payloads until the next dispatch named t.
func (f *restFixture) event(t string) map[string]any {
	f.t.Helper()
	p := f.c.readUntil(f.ctx, 0, t)
	var d map[string]any
	json.Unmarshal(p.D, &d)
	return d
}

func TestRESTMessagesAndReactions(t *testing.T) {
	leaktest.Check(t)
	f := newRESTFixture(t)
	ch := "/channels/" + idString(wChan)
	m := f.want("POST", ch+"/messages", `{"content":"hi <@`+idString(wUser)+`>","embeds":[{"title":"t"}],"components":[]}`, 200, 0)
	id := m["id"].(string)
	if m["channel_id"] != idString(wChan) || m["edited_timestamp"] != nil || m["guild_id"] != nil || len(m["mentions"].([]any)) != 1 {
		t.Fatalf("created %v", m)
	}
	if ev := f.event("MESSAGE_CREATE"); ev["id"] != id || ev["guild_id"] != idString(wGuildID) || ev["member"] == nil {
		t.Fatalf("MESSAGE_CREATE %v", ev)
	}
	if got := f.want("GET", ch+"/messages/"+id, "", 200, 0); got["content"] != m["content"] {
		t.Fatalf("get %v", got)
	}
	if got := f.want("PATCH", ch+"/messages/"+id, `{"content":"edited"}`, 200, 0); got["edited_timestamp"] == nil || got["content"] != "edited" {
		t.Fatalf("edit %v", got)
	}
	if ev := f.event("MESSAGE_UPDATE"); ev["content"] != "edited" {
		t.Fatalf("MESSAGE_UPDATE %v", ev)
	}
	f.want("PUT", ch+"/messages/"+id+"/reactions/%F0%9F%91%8D/@me", "", 204, 0)
	if ev := f.event("MESSAGE_REACTION_ADD"); ev["message_id"] != id || ev["emoji"].(map[string]any)["name"] != "👍" {
		t.Fatalf("MESSAGE_REACTION_ADD %v", ev)
	}
	if got := f.want("GET", ch+"/messages/"+id, "", 200, 0); got["reactions"].([]any)[0].(map[string]any)["me"] != true {
		t.Fatalf("reactions %v", got["reactions"])
	}
	f.want("PUT", ch+"/messages/"+id+"/reactions/notanemoji/@me", "", 400, 10014)
	f.want("DELETE", ch+"/messages/"+id+"/reactions/%F0%9F%91%8D/@me", "", 204, 0)
	f.event("MESSAGE_REACTION_REMOVE")
	f.want("DELETE", ch+"/messages/"+id, "", 204, 0)
	if ev := f.event("MESSAGE_DELETE"); ev["id"] != id {
		t.Fatalf("MESSAGE_DELETE %v", ev)
	}
	f.want("GET", ch+"/messages/"+id, "", 404, 10008)

	a := f.want("POST", ch+"/messages", `{"content":"a"}`, 200, 0)["id"].(string)
	b := f.want("POST", ch+"/messages", `{"content":"b"}`, 200, 0)["id"].(string)
	_, list, _ := f.do("GET", ch+"/messages?limit=1", "")
	if list != nil {
		t.Fatalf("a list decoded as an object: %v", list)
	}
	f.want("POST", ch+"/messages/bulk-delete", `{"messages":["`+a+`","`+b+`"]}`, 204, 0)
	if ev := f.event("MESSAGE_DELETE_BULK"); len(ev["ids"].([]any)) != 2 {
		t.Fatalf("MESSAGE_DELETE_BULK %v", ev)
	}
	f.want("POST", ch+"/typing", "", 204, 0)
	f.event("TYPING_START")
}

func TestRESTErrorsAsDiscord(t *testing.T) {
	leaktest.Check(t)
	f := newRESTFixture(t)
	ch := "/channels/" + idString(wChan)
	f.want("POST", "/channels/1/messages", `{"content":"x"}`, 404, 10003)
	f.want("GET", "/guilds/1", "", 404, 10004)
	f.want("POST", ch+"/messages", `{}`, 400, 50006)
	f.want("POST", ch+"/messages", `{"content":`, 400, 50109)
	out := f.want("POST", ch+"/messages", `{"content":"`+strings.Repeat("x", 2001)+`"}`, 400, 50035)
	errs := out["errors"].(map[string]any)["content"].(map[string]any)["_errors"].([]any)
	if errs[0].(map[string]any)["code"] != "BASE_TYPE_MAX_LENGTH" {
		t.Fatalf("form errors %v", out)
	}
	f.want("POST", ch+"/messages", `{"content":"`+strings.Repeat("x", 1<<16)+`"}`, 413, 40005)
	f.want("GET", "/guilds/"+idString(wGuildID)+"/members/1", "", 404, 10007)
	f.want("PUT", "/guilds/"+idString(wGuildID)+"/members/"+idString(wUser)+"/roles/1", "", 404, 10011)
	f.want("GET", "/users/1", "", 404, 10013)
	f.want("GET", "/applications/"+idString(wApp)+"/commands/1", "", 404, 10063)

	out = f.want("GET", "/voice/regions", "", 404, 0)
	if out["message"] != "not modeled by ipcord fake: GET /voice/regions" {
		t.Fatalf("unmodeled route: %v", out)
	}
	if _, err := f.srv.Wait(f.ctx, Route("GET /voice/regions")); err != nil {
		t.Fatal("an unmodeled route was not recorded")
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/users/@me", nil)
	req.Header.Set("Authorization", "Bot wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
}

func TestRESTGuildsMembersRoles(t *testing.T) {
	leaktest.Check(t)
	f := newRESTFixture(t)
	g := "/guilds/" + idString(wGuildID)
	if got := f.want("GET", g+"?with_counts=true", "", 200, 0); got["name"] != "world" || got["approximate_member_count"] != 2.0 || len(got["roles"].([]any)) != 2 {
		t.Fatalf("guild %v", got)
	}
	if got := f.want("GET", "/channels/"+idString(wChan2), "", 200, 0); got["name"] != "second" || got["guild_id"] != idString(wGuildID) || got["position"] != 1.0 {
		t.Fatalf("channel %v", got)
	}
	f.want("PUT", g+"/members/"+idString(wUser)+"/roles/"+idString(wRole), "", 204, 0)
	ev := f.event("GUILD_MEMBER_UPDATE")
	if roles := ev["roles"].([]any); len(roles) != 1 || roles[0] != idString(wRole) || ev["user"].(map[string]any)["id"] != idString(wUser) {
		t.Fatalf("GUILD_MEMBER_UPDATE %v", ev)
	}
	if got := f.want("GET", g+"/members/"+idString(wUser), "", 200, 0); len(got["roles"].([]any)) != 1 {
		t.Fatalf("member after role add %v", got)
	}
	f.want("DELETE", g+"/members/"+idString(wUser)+"/roles/"+idString(wRole), "", 204, 0)
	f.event("GUILD_MEMBER_UPDATE")
	me := f.want("GET", "/users/@me", "", 200, 0)
	dm := f.want("POST", "/users/@me/channels", `{"recipient_id":"`+idString(wUser)+`"}`, 200, 0)
	if me["id"] != idString(wApp) || dm["type"] != 1.0 {
		t.Fatalf("me %v dm %v", me, dm)
	}
	if again := f.want("POST", "/users/@me/channels", `{"recipient_id":"`+idString(wUser)+`"}`, 200, 0); again["id"] != dm["id"] {
		t.Fatal("a second Create DM made another channel")
	}
	for _, p := range []string{"/applications/@me", "/oauth2/applications/@me"} {
		if app := f.want("GET", p, "", 200, 0); app["id"] != idString(wApp) || app["owner"] == nil {
			t.Fatalf("%s %v", p, app)
		}
	}
	_, _, h := f.do("GET", g+"/roles", "")
	for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After", "X-RateLimit-Bucket"} {
		if h.Get(k) == "" {
			t.Errorf("no %s header", k)
		}
	}
}

func TestRESTApplicationCommands(t *testing.T) {
	leaktest.Check(t)
	f := newRESTFixture(t)
	base := "/applications/" + idString(wApp)
	a := f.want("POST", base+"/commands", `{"name":"ping","description":"pong"}`, 201, 0)
	again := f.want("POST", base+"/commands", `{"name":"ping","description":"pong!"}`, 200, 0)
	if again["id"] != a["id"] || again["description"] != "pong!" || again["version"] == a["version"] {
		t.Fatalf("same name created %v then %v", a, again)
	}
	f.want("POST", base+"/commands", `{"name":"Bad Name","description":"x"}`, 400, 50035)
	f.want("POST", base+"/commands", `{"name":"x","description":""}`, 400, 50035)
	gbase := base + "/guilds/" + idString(wGuildID) + "/commands"
	f.want("POST", gbase, `{"name":"local","description":"guild only"}`, 201, 0)
	f.want("POST", base+"/guilds/1/commands", `{"name":"local","description":"x"}`, 404, 10004)
	status, _, _ := f.do("PUT", base+"/commands", `[{"name":"ping","description":"kept"},{"name":"user info","type":2}]`)
	if status != 200 {
		t.Fatalf("bulk overwrite %d", status)
	}
	req, _ := http.NewRequest("GET", f.srv.URL+base+"/commands", nil)
	req.Header.Set("Authorization", "Bot "+wToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list) != 2 || list[0]["id"] != a["id"] || list[1]["type"] != 2.0 || list[1]["guild_id"] != nil {
		t.Fatalf("global commands after overwrite %v", list)
	}
	f.want("DELETE", base+"/commands/"+list[1]["id"].(string), "", 204, 0)
	f.want("GET", base+"/commands/"+list[1]["id"].(string), "", 404, 10063)
	f.want("GET", base+"/commands/"+list[0]["id"].(string), "", 200, 0)
	f.want("GET", "/applications/1/commands", "", 404, 10002)
}

func TestRESTInteractionCallbackAndFollowups(t *testing.T) {
	leaktest.Check(t)
	f := newRESTFixture(t)
	raw, err := f.srv.RunCommand(Command{ChannelID: wChan, UserID: wUser, Name: "ping"})
	if err != nil {
		t.Fatal(err)
	}
	var in struct {
		ID, Token string
	}
	json.Unmarshal(raw, &in)
	if ev := f.event("INTERACTION_CREATE"); ev["id"] != in.ID || ev["member"].(map[string]any)["user"].(map[string]any)["id"] != idString(wUser) {
		t.Fatalf("INTERACTION_CREATE %v", ev)
	}
	cb := "/interactions/" + in.ID + "/" + in.Token + "/callback"
	out := f.want("POST", cb+"?with_response=true", `{"type":4,"data":{"content":"pong"}}`, 200, 0)
	msg := out["resource"].(map[string]any)["message"].(map[string]any)
	if out["interaction"].(map[string]any)["id"] != in.ID || msg["content"] != "pong" || msg["channel_id"] != idString(wChan) {
		t.Fatalf("with_response %v", out)
	}
	if ev := f.event("MESSAGE_CREATE"); ev["id"] != msg["id"] || ev["interaction_metadata"] == nil || ev["webhook_id"] != idString(wApp) {
		t.Fatalf("MESSAGE_CREATE of the response %v", ev)
	}
	f.want("POST", cb, `{"type":4,"data":{"content":"twice"}}`, 400, 40060)
	f.want("POST", "/interactions/"+in.ID+"/wrong/callback", `{"type":4,"data":{"content":"x"}}`, 404, 10062)

	wh := "/webhooks/" + idString(wApp) + "/" + in.Token
	if got := f.want("GET", wh+"/messages/@original", "", 200, 0); got["id"] != msg["id"] {
		t.Fatalf("@original %v", got)
	}
	f.want("PATCH", wh+"/messages/@original", `{"content":"edited"}`, 200, 0)
	if ev := f.event("MESSAGE_UPDATE"); ev["content"] != "edited" {
		t.Fatalf("MESSAGE_UPDATE %v", ev)
	}
	fu := f.want("POST", wh+"?wait=true", `{"content":"more"}`, 200, 0)
	f.event("MESSAGE_CREATE")
	f.want("POST", wh+"?wait=true", `{"content":"secret","flags":64}`, 200, 0)
	f.want("DELETE", wh+"/messages/"+fu["id"].(string), "", 204, 0)
	if ev := f.event("MESSAGE_DELETE"); ev["id"] != fu["id"] {
		t.Fatalf("MESSAGE_DELETE after the ephemeral follow-up %v (an ephemeral message reached the gateway?)", ev)
	}
	f.want("GET", wh+"/messages/1", "", 404, 10008)
	f.want("POST", cb, `{"type":2}`, 400, 50035)
}

func TestSendMessageAsMember(t *testing.T) {
	leaktest.Check(t)
	f := newRESTFixture(t)
	raw, err := f.srv.SendMessage(wChan, wUser, "hello")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(raw, &m)
	if ev := f.event("MESSAGE_CREATE"); ev["id"] != m["id"] || ev["author"].(map[string]any)["username"] != "ada" {
		t.Fatalf("MESSAGE_CREATE %v", ev)
	}
	// The bot can reply to it, since the fake keeps it.
	f.want("POST", "/channels/"+idString(wChan)+"/messages", `{"content":"hi","message_reference":{"message_id":"`+m["id"].(string)+`"}}`, 200, 0)
	if _, err := f.srv.SendMessage(wChan, 1, "x"); err == nil {
		t.Fatal("a non-member's message was accepted")
	}
	if _, err := f.srv.SendMessage(1, wUser, "x"); err == nil {
		t.Fatal("a message to an unknown channel was accepted")
	}
}
