package discordtest

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/ipcord/ipcord/internal/leaktest"
)

// emitted says where each object Discord documents sits in what the fake
// sends: the object collected (a REST body, a dispatch's d, a payload),
// the path to it inside ("" itself, "author", "channels[]" each element of
// an array) and the shape of testdata/shapes it must have. A new place is
// one line; a new kind of object is one line of docShapes and a fixture.
var emitted = []struct{ object, path, shape string }{
	{"payloads", "[]", "payload"}, {"hello", "", "hello"},
	{"ready", "", "ready"}, {"ready", "user", "user"}, {"ready", "guilds[]", "unavailable_guild"},
	{"resumed", "", "resumed"},
	{"guild_create", "", "guild"}, {"guild_create", "", "guild_create"}, {"guild_create", "roles[]", "role"},
	{"guild_create", "channels[]", "channel_text"}, {"guild_create", "members[]", "member"},
	{"guild_create", "members[].user", "user"},
	{"gateway_bot", "", "gateway_bot"}, {"gateway_bot", "session_start_limit", "session_start_limit"},
	{"user", "", "user"}, {"me", "", "user"},
	{"member", "", "member"}, {"member", "user", "user"}, {"members", "[]", "member"},
	{"channel", "", "channel_text"}, {"channels", "[]", "channel_text"},
	{"guild", "", "guild"}, {"guild", "roles[]", "role"}, {"roles", "[]", "role"},
	{"dm", "", "channel_dm"}, {"dm", "recipients[]", "user"},
	{"application", "", "application"}, {"oauth2_application", "", "application"},
	{"command", "", "command"}, {"commands", "[]", "command"}, {"overwritten", "[]", "command"},
	{"message", "", "message"}, {"message", "author", "user"}, {"message_get", "", "message"},
	{"message_edit", "", "message"}, {"messages", "[]", "message"},
	{"message_create", "", "message"}, {"message_create", "", "message_create"}, {"message_create", "author", "user"},
	{"message_create", "member", "member"},
	{"message_update", "", "message"}, {"message_update", "", "message_create"},
	{"message_delete", "", "message_delete"}, {"message_delete_bulk", "", "message_delete_bulk"},
	{"reaction_add", "", "reaction_add"}, {"reaction_add", "member", "member"}, {"reaction_add", "emoji", "emoji"},
	{"reactions", "[]", "user"},
	{"reaction_remove", "", "reaction_remove"}, {"reaction_remove", "emoji", "emoji"},
	{"typing_start", "", "typing_start"}, {"typing_start", "member", "member"},
	{"member_update", "", "member_update"}, {"member_update", "user", "user"},
	{"members_chunk", "", "members_chunk"}, {"members_chunk", "members[]", "member"},
	{"rate_limited", "", "rate_limited"},
	{"interaction", "", "interaction"}, {"interaction", "member", "member"}, {"interaction", "member.user", "user"},
	{"interaction", "data", "command_data"},
	{"callback_response", "", "callback_response"}, {"callback_response", "interaction", "callback"},
	{"callback_response", "resource", "callback_resource"}, {"callback_response", "resource.message", "message"},
	{"followup", "", "message"}, {"original", "", "message"},
	{"error_unknown", "", "error"}, {"error_form", "", "error"}, {"error_auth", "", "error"},
}

var (
	snowflakeRE = regexp.MustCompile(`^[0-9]{1,20}$`)
	isoRE       = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)
)

// kindOf checks v against a kind of docKind; a leading "?" allows null.
func kindOf(v any, kind string) bool {
	if strings.HasPrefix(kind, "?") {
		if v == nil {
			return true
		}
		kind = kind[1:]
	}
	switch kind {
	case "snowflake":
		s, ok := v.(string)
		return ok && snowflakeRE.MatchString(s)
	case "string":
		_, ok := v.(string)
		return ok
	case "int":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "number":
		_, ok := v.(float64)
		return ok
	case "bool":
		_, ok := v.(bool)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "timestamp":
		s, ok := v.(string)
		if !ok || !isoRE.MatchString(s) {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, s)
		return err == nil
	}
	return false
}

// jsonType is the JSON type of a decoded value.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	}
	return "object"
}

// shapeErrors checks one object against a fixture: every field Discord
// documents as always present (and, for a variant, every field of its
// example) is there, of its documented kind and of the JSON type the
// example gives it; a documented optional field, when sent, is of its
// kind too.
func shapeErrors(v any, fx shapeFixture) []string {
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{fmt.Sprintf("is %s, want an object", jsonType(v))}
	}
	var ex map[string]any
	json.Unmarshal(fx.Example, &ex)
	var errs []string
	for _, f := range fx.Fields {
		name, optional := strings.CutSuffix(f[0], "?")
		exV, inEx := ex[name]
		got, present := obj[name]
		switch {
		case !present && (!optional || fx.Variant && inEx):
			errs = append(errs, fmt.Sprintf("has no %q (%s)", name, f[1]))
		case !present:
		case docKind(f[1]) != "" && !kindOf(got, docKind(f[1])):
			errs = append(errs, fmt.Sprintf("%s = %#v, documented %q", name, got, f[1]))
		case inEx && exV != nil && got != nil && jsonType(got) != jsonType(exV):
			errs = append(errs, fmt.Sprintf("%s is %s, the docs' example has %s", name, jsonType(got), jsonType(exV)))
		}
	}
	return errs
}

// at returns the values at a path of emitted: "" is v itself, "a.b" a
// field of a field, "a[]" each element of the array a.
func at(v any, path string) ([]any, error) {
	if path == "" {
		return []any{v}, nil
	}
	step, rest, _ := strings.Cut(path, ".")
	name, each := strings.CutSuffix(step, "[]")
	if name != "" {
		obj, ok := v.(map[string]any)
		if !ok || obj[name] == nil {
			return nil, fmt.Errorf("no %s", name)
		}
		v = obj[name]
	}
	vs := []any{v}
	if each {
		arr, ok := v.([]any)
		if !ok || len(arr) == 0 {
			return nil, fmt.Errorf("%s is not a non-empty array", step)
		}
		vs = arr
	}
	var out []any
	for _, v := range vs {
		got, err := at(v, rest)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// TestShapes collects one of every object the fake sends, over REST and
// the gateway, and checks each against the shapes Discord documents.
func TestShapes(t *testing.T) {
	leaktest.Check(t)
	got := collectShapes(t)
	fixtures := map[string]shapeFixture{}
	for _, ds := range docShapes {
		fixtures[ds.name] = loadShape(t, ds.name)
	}
	checked, used := map[string]bool{}, map[string]bool{}
	for _, e := range emitted {
		checked[e.object], used[e.shape] = true, true
		v, ok := got[e.object]
		if !ok {
			t.Errorf("no %s collected", e.object)
			continue
		}
		fx, ok := fixtures[e.shape]
		if !ok {
			t.Errorf("no testdata/shapes/%s.json", e.shape)
			continue
		}
		vs, err := at(v, e.path)
		if err != nil {
			t.Errorf("%s: %s: %v", e.object, e.path, err)
			continue
		}
		for _, v := range vs {
			for _, msg := range shapeErrors(v, fx) {
				t.Errorf("%s %s (as %s): %s", e.object, e.path, e.shape, msg)
			}
		}
	}
	for name := range got {
		if !checked[name] {
			t.Errorf("collected %s, which emitted does not check", name)
		}
	}
	for name := range fixtures {
		if !used[name] {
			t.Errorf("testdata/shapes/%s.json is checked against nothing", name)
		}
	}
}

// collectShapes drives a Server and its Gateway through every object they
// send and returns each, decoded, by the name emitted uses.
func collectShapes(t *testing.T) map[string]any {
	f := newRESTFixture(t)
	g, u, ch := "/guilds/"+idString(wGuildID), idString(wUser), "/channels/"+idString(wChan)
	app := "/applications/" + idString(wApp)
	got := map[string]any{}
	var payloads []any
	// f.c's dispatches, each payload kept whole.
	event := func(name string) map[string]any {
		t.Helper()
		for {
			_, b, err := f.c.ws.Read(f.ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", name, err)
			}
			var p map[string]any
			json.Unmarshal(b, &p)
			payloads = append(payloads, p)
			if p["t"] == name {
				d, _ := p["d"].(map[string]any)
				return d
			}
		}
	}
	body := func(method, path, req string, status int) any {
		t.Helper()
		token := wToken
		if status == 401 {
			token = "wrong"
		}
		code, out, _ := f.raw(method, path, req, token)
		if code != status {
			t.Fatalf("%s %s = %d %s, want %d", method, path, code, out, status)
		}
		var v any
		json.Unmarshal(out, &v)
		return v
	}
	got["gateway_bot"] = body("GET", "/gateway/bot", "", 200)
	got["user"] = body("GET", "/users/"+u, "", 200)
	got["me"] = body("GET", "/users/@me", "", 200)
	got["member"] = body("GET", g+"/members/"+u, "", 200)
	got["members"] = body("GET", g+"/members?limit=10", "", 200)
	got["channel"] = body("GET", ch, "", 200)
	got["channels"] = body("GET", g+"/channels", "", 200)
	got["guild"] = body("GET", g, "", 200)
	got["roles"] = body("GET", g+"/roles", "", 200)
	got["dm"] = body("POST", "/users/@me/channels", `{"recipient_id":"`+u+`"}`, 200)
	got["application"] = body("GET", "/applications/@me", "", 200)
	got["oauth2_application"] = body("GET", "/oauth2/applications/@me", "", 200)
	got["command"] = body("POST", app+"/commands", `{"name":"ping","description":"d"}`, 201)
	got["commands"] = body("GET", app+"/commands", "", 200)
	got["overwritten"] = body("PUT", app+"/guilds/"+idString(wGuildID)+"/commands", `[{"name":"pong","description":"d"}]`, 200)
	got["error_unknown"] = body("GET", "/channels/1", "", 404)
	got["error_form"] = body("POST", ch+"/messages", `{"content":7}`, 400)
	got["error_auth"] = body("GET", "/users/@me", "", 401)

	msg := body("POST", ch+"/messages", `{"content":"hi","embeds":[{"title":"t"}]}`, 200).(map[string]any)
	got["message"] = msg
	got["message_create"] = event("MESSAGE_CREATE")
	id := msg["id"].(string)
	got["message_get"] = body("GET", ch+"/messages/"+id, "", 200)
	got["messages"] = body("GET", ch+"/messages", "", 200)
	got["message_edit"] = body("PATCH", ch+"/messages/"+id, `{"content":"edited"}`, 200)
	got["message_update"] = event("MESSAGE_UPDATE")
	body("PUT", ch+"/messages/"+id+"/reactions/%E2%9C%85/@me", "", 204)
	got["reaction_add"] = event("MESSAGE_REACTION_ADD")
	got["reactions"] = body("GET", ch+"/messages/"+id+"/reactions/%E2%9C%85", "", 200)
	body("DELETE", ch+"/messages/"+id+"/reactions/%E2%9C%85/@me", "", 204)
	got["reaction_remove"] = event("MESSAGE_REACTION_REMOVE")
	body("POST", ch+"/typing", "", 204)
	got["typing_start"] = event("TYPING_START")
	body("PUT", g+"/members/"+u+"/roles/"+idString(wRole), "", 204)
	got["member_update"] = event("GUILD_MEMBER_UPDATE")
	body("DELETE", ch+"/messages/"+id, "", 204)
	got["message_delete"] = event("MESSAGE_DELETE")
	var ids []string
	for range 2 {
		ids = append(ids, body("POST", ch+"/messages", `{"content":"bulk"}`, 200).(map[string]any)["id"].(string))
	}
	body("POST", ch+"/messages/bulk-delete", `{"messages":["`+strings.Join(ids, `","`)+`"]}`, 204)
	got["message_delete_bulk"] = event("MESSAGE_DELETE_BULK")
	for range 2 { // the second request for all members is rate limited
		f.c.mustSend(f.ctx, map[string]any{"op": 8, "d": map[string]any{"guild_id": idString(wGuildID), "query": "", "limit": 0}})
	}
	got["members_chunk"] = event("GUILD_MEMBERS_CHUNK")
	got["rate_limited"] = event("RATE_LIMITED")

	raw, err := f.srv.RunCommand(Command{ChannelID: wChan, UserID: wUser, Name: "ping"})
	if err != nil {
		t.Fatal(err)
	}
	var in map[string]any
	json.Unmarshal(raw, &in)
	got["interaction"] = in
	tok := in["token"].(string)
	got["callback_response"] = body("POST", "/interactions/"+in["id"].(string)+"/"+tok+"/callback?with_response=true",
		`{"type":4,"data":{"content":"x"}}`, 200)
	got["followup"] = body("POST", "/webhooks/"+idString(wApp)+"/"+tok, `{"content":"more"}`, 200)
	got["original"] = body("GET", "/webhooks/"+idString(wApp)+"/"+tok+"/messages/@original", "", 200)
	f.c.mustSend(f.ctx, map[string]any{"op": 1, "d": nil})
	for op := 0.0; op != 11; {
		_, b, err := f.c.ws.Read(f.ctx)
		if err != nil {
			t.Fatalf("waiting for the heartbeat ACK: %v", err)
		}
		var p map[string]any
		json.Unmarshal(b, &p)
		payloads = append(payloads, p)
		op, _ = p["op"].(float64)
	}

	// A connection of its own for HELLO, READY, GUILD_CREATE and RESUMED,
	// read whole: shard 1 of 2, its own identify bucket (the fixture has
	// two), so it need not wait for the fixture's IDENTIFY's 5 s.
	c := mustDial(t, f.gw.URL(), "v=10")
	next := func(ctx context.Context, c *testClient, name string) map[string]any {
		t.Helper()
		for {
			_, b, err := c.ws.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", name, err)
			}
			var p map[string]any
			json.Unmarshal(b, &p)
			payloads = append(payloads, p)
			if p["t"] == name || name == "HELLO" && p["op"] == 10.0 {
				d, _ := p["d"].(map[string]any)
				if name == "RESUMED" {
					got["resumed"] = p["d"] // whatever it is: it must be an object
				}
				return d
			}
		}
	}
	got["hello"] = next(f.ctx, c, "HELLO")
	c.mustSend(f.ctx, identifyPayload("tok", 1, 2, 0))
	ready := next(f.ctx, c, "READY")
	got["ready"] = ready
	got["guild_create"] = next(f.ctx, c, "GUILD_CREATE") // the world guild is on shard 1 of 2
	c.ws.Close(4000, "")
	c2 := mustDial(t, f.gw.ResumeURL(), "v=10")
	next(f.ctx, c2, "HELLO")
	c2.mustSend(f.ctx, resumePayload("tok", ready["session_id"].(string), 1))
	next(f.ctx, c2, "RESUMED")
	c2.ws.Close(websocket.StatusCode(4000), "")
	got["payloads"] = payloads
	return got
}

// The checks must refuse what Discord would not send.
func TestShapeErrors(t *testing.T) {
	fx := shapeFixture{
		Fields:  [][2]string{{"id", "snowflake"}, {"at", "?ISO8601 timestamp"}, {"list", "array of things"}, {"n?", "integer"}, {"x?", "string"}},
		Example: json.RawMessage(`{"id":"1","at":null,"list":[],"x":"s","n":1}`),
	}
	for _, c := range []struct {
		obj  string
		errs int
	}{
		{`{"id":"1","at":"2024-01-01T00:00:00.000000+00:00","list":[]}`, 0},
		{`{"id":"1","at":null,"list":[],"n":2,"x":"y"}`, 0},
		{`{"at":null,"list":[]}`, 1},                  // id missing
		{`{"id":1,"at":null,"list":[]}`, 1},           // a snowflake as a number
		{`{"id":"1","at":"2024-01-01","list":[]}`, 1}, // not ISO 8601
		{`{"id":"1","at":null,"list":null}`, 1},       // an array as null
		{`{"id":"1","at":null,"list":[],"n":"2"}`, 1}, // an optional field of the wrong kind
		{`{"id":"1","at":null,"list":[],"n":1.5}`, 1}, // an integer with a fraction
		{`null`, 1}, // not an object
	} {
		var v any
		json.Unmarshal([]byte(c.obj), &v)
		if errs := shapeErrors(v, fx); len(errs) != c.errs {
			t.Errorf("%s: %q, want %d errors", c.obj, errs, c.errs)
		}
	}
	// A variant's example fields are required; its JSON types are checked
	// where the documented type is not one kindOf knows.
	fx = shapeFixture{Variant: true, Fields: [][2]string{{"id", "snowflake"}, {"pos?", "integer"}, {"m", "mixed"}},
		Example: json.RawMessage(`{"id":"1","pos":3,"m":"text"}`)}
	for _, c := range []struct {
		obj  string
		errs int
	}{
		{`{"id":"1","pos":0,"m":"a"}`, 0},
		{`{"id":"1","m":"a"}`, 1},
		{`{"id":"1","pos":0,"m":3}`, 1},
	} {
		var v any
		json.Unmarshal([]byte(c.obj), &v)
		if errs := shapeErrors(v, fx); len(errs) != c.errs {
			t.Errorf("variant %s: %q, want %d errors", c.obj, errs, c.errs)
		}
	}
}

func TestDocKind(t *testing.T) {
	for doc, want := range map[string]string{
		"snowflake": "snowflake", "?string": "?string", "?ISO8601 timestamp": "?timestamp",
		"array of snowflakes": "array", "partial application object": "object", "integer": "int",
		"float": "number", "?string (can be null only in reaction emoji objects)": "?string",
		"dictionary with keys of application integration types": "object", "?mixed (any JSON value)": "",
		"integer or string": "", "interaction type": "",
	} {
		if got := docKind(doc); got != want {
			t.Errorf("docKind(%q) = %q, want %q", doc, got, want)
		}
	}
}
