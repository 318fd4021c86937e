package discord_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/discord"
)

// TestDocumentedComponents decodes every example of Discord's component
// reference (testdata/components, taken from developers/components/
// reference.mdx with comments removed): message payloads, modal payloads
// and the interaction data Discord sends back. Each must decode and encode
// back to the same JSON, so every documented component field is modelled.
// The resolved users, members, roles and channels are checked to decode
// but not compared: those types model the fields bots use, and the raw
// body is there for the rest. (The file upload example's attachment ID,
// 21 digits, overflows a snowflake; its copy here has 20.)
func TestDocumentedComponents(t *testing.T) {
	files, err := filepath.Glob("testdata/components/*.json")
	if err != nil || len(files) < 40 {
		t.Fatalf("examples: %v, %d files", err, len(files))
	}
	for _, name := range files {
		t.Run(strings.TrimSuffix(filepath.Base(name), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var top struct {
				Type int             `json:"type"`
				Data json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(raw, &top); err != nil {
				t.Fatal(err)
			}
			switch top.Type {
			case 9: // modal create payload
				var r discord.InteractionResponse
				roundTrip(t, raw, &r)
			case int(discord.InteractionMessageComponent), int(discord.InteractionModalSubmit):
				var in discord.Interaction
				if err := json.Unmarshal(raw, &in); err != nil {
					t.Fatal(err)
				}
				if top.Type == int(discord.InteractionModalSubmit) {
					d, err := in.ModalData()
					if err != nil {
						t.Fatal(err)
					}
					roundTrip(t, top.Data, d)
				} else {
					d, err := in.ComponentData()
					if err != nil {
						t.Fatal(err)
					}
					roundTrip(t, top.Data, d)
				}
			default: // message create payload
				var p discord.MessageParams
				roundTrip(t, raw, &p)
			}
		})
	}
}

// roundTrip decodes raw into v, encodes v and compares the two as JSON
// values.
func roundTrip(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	var want, got map[string]any
	json.Unmarshal(raw, &want)
	json.Unmarshal(out, &got)
	if (want["resolved"] == nil) != (got["resolved"] == nil) {
		t.Fatalf("resolved data lost: %s", out)
	}
	delete(want, "resolved")
	delete(got, "resolved")
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("round trip differs:\nwant %s\ngot  %s", compact(raw), out)
	}
}

func compact(b []byte) []byte {
	var buf bytes.Buffer
	json.Compact(&buf, b)
	return buf.Bytes()
}

// TestSubmittedValues pins the documented JSON type of each submitted
// value: a checkbox's is a boolean, a radio group's a string or null, a
// checkbox group's and a file upload's arrays.
func TestSubmittedValues(t *testing.T) {
	body := `{"custom_id":"m","components":[
		{"id":1,"type":18,"component":{"id":2,"type":23,"custom_id":"agree","value":true}},
		{"id":3,"type":18,"component":{"id":4,"type":23,"custom_id":"spam","value":false}},
		{"id":5,"type":18,"component":{"id":6,"type":21,"custom_id":"class","value":"warrior"}},
		{"id":7,"type":18,"component":{"id":8,"type":21,"custom_id":"none","value":null}},
		{"id":9,"type":18,"component":{"id":10,"type":22,"custom_id":"toppings","values":[]}},
		{"id":11,"type":18,"component":{"id":12,"type":19,"custom_id":"upload","values":["111111111111111111"]}},
		{"id":13,"type":18,"component":{"id":14,"type":4,"custom_id":"text","value":"typed"}},
		{"id":15,"type":10},
		{"id":16,"type":99,"custom_id":"future","value":{"x":[1,2]}},
		{"id":17,"type":18,"component":{"id":18,"type":4,"custom_id":"odd","value":42}}]}`
	var d discord.ModalSubmitData
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if v, ok := d.Checked("agree"); !v || !ok {
		t.Errorf("agree: %v %v", v, ok)
	}
	if v, ok := d.Checked("spam"); v || !ok {
		t.Errorf("spam: %v %v", v, ok)
	}
	if v, ok := d.Value("class"); v != "warrior" || !ok {
		t.Errorf("class: %q %v", v, ok)
	}
	if v, ok := d.Value("none"); v != "" || !ok {
		t.Errorf("none: %q %v", v, ok)
	}
	if v, ok := d.Values("toppings"); len(v) != 0 || !ok {
		t.Errorf("toppings: %q %v", v, ok)
	}
	if v, ok := d.Values("upload"); len(v) != 1 || v[0] != "111111111111111111" || !ok {
		t.Errorf("upload: %q %v", v, ok)
	}
	if v, ok := d.Value("text"); v != "typed" || !ok {
		t.Errorf("text: %q %v", v, ok)
	}
	if _, ok := d.Value("missing"); ok {
		t.Error("missing component found")
	}
	// An unknown type and an unmodelled value shape are kept, not refused.
	future := d.Components[8]
	if future.Type.Known() || string(future.Raw) != `{"id":16,"type":99,"custom_id":"future","value":{"x":[1,2]}}` {
		t.Errorf("future component: %+v", future)
	}
	if _, ok := d.Value("future"); ok {
		t.Error("a component of an unknown type answered Value")
	}
	odd := d.Components[9].Component
	if len(odd.Raw) == 0 {
		t.Errorf("a number value was not kept raw: %+v", odd)
	}
	out, err := json.Marshal(d.Components[:2])
	if err != nil || string(out) != `[{"type":18,"id":1,"component":{"type":23,"id":2,"custom_id":"agree","value":true}},{"type":18,"id":3,"component":{"type":23,"id":4,"custom_id":"spam"}}]` {
		t.Errorf("re-encoded checkboxes: %s %v", out, err)
	}
}
