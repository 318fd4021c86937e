package discordtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docsDir, when set, is a checkout of github.com/discord/discord-api-docs:
// TestShapeFixtures then regenerates testdata/shapes from it.
//
//	go test -run TestShapeFixtures ./discordtest -docs /path/to/discord-api-docs
var docsDir = flag.String("docs", "", "a discord-api-docs checkout to regenerate testdata/shapes from")

// docShape names where Discord documents one object: the table of its
// fields and, when the docs have one, an example. A new object is one line.
type docShape struct {
	name  string
	file  string // the table's file, under the docs' root
	table string // the heading above the table; "" when only an example exists
	// exFile and example name the example's file (file when empty) and
	// heading; exD takes the example's "d" (a whole gateway payload).
	exFile, example string
	exD             bool
	// variant: the example shows one kind of a broad object (a text
	// channel of the channel object, whose table marks most fields
	// optional because other kinds lack them), so each field the example
	// has is one that kind always carries.
	variant bool
}

var docShapes = []docShape{
	{name: "payload", file: "developers/events/gateway-events.mdx", table: "Payload Structure", example: "Example Gateway Event Payload"},
	{name: "hello", file: "developers/events/gateway-events.mdx", table: "Hello Structure", example: "Example Hello", exD: true},
	{name: "ready", file: "developers/events/gateway-events.mdx", table: "Ready Event Fields"},
	{name: "unavailable_guild", file: "developers/resources/guild.mdx", example: "Example Unavailable Guild", variant: true},
	{name: "guild", file: "developers/resources/guild.mdx", table: "Guild Structure", example: "Example Guild"},
	{name: "guild_create", file: "developers/events/gateway-events.mdx", table: "Guild Create Extra Fields"},
	{name: "channel_text", file: "developers/resources/channel.mdx", table: "Channel Structure", example: "Example Guild Text Channel", variant: true},
	{name: "channel_dm", file: "developers/resources/channel.mdx", table: "Channel Structure", example: "Example DM Channel", variant: true},
	{name: "member", file: "developers/resources/guild.mdx", table: "Guild Member Structure", example: "Example Guild Member"},
	{name: "role", file: "developers/topics/permissions.mdx", table: "Role Structure", example: "Example Role"},
	{name: "user", file: "developers/resources/user.mdx", table: "User Structure", example: "Example User"},
	{name: "emoji", file: "developers/resources/emoji.mdx", table: "Emoji Structure", example: "Emoji Example"},
	{name: "message", file: "developers/resources/message.mdx", table: "Message Structure", example: "Example Message"},
	{name: "message_create", file: "developers/events/gateway-events.mdx", table: "Message Create Extra Fields"},
	{name: "message_delete", file: "developers/events/gateway-events.mdx", table: "Message Delete Event Fields"},
	{name: "message_delete_bulk", file: "developers/events/gateway-events.mdx", table: "Message Delete Bulk Event Fields"},
	{name: "reaction_add", file: "developers/events/gateway-events.mdx", table: "Message Reaction Add Event Fields"},
	{name: "reaction_remove", file: "developers/events/gateway-events.mdx", table: "Message Reaction Remove Event Fields"},
	{name: "typing_start", file: "developers/events/gateway-events.mdx", table: "Typing Start Event Fields"},
	{name: "member_update", file: "developers/events/gateway-events.mdx", table: "Guild Member Update Event Fields"},
	{name: "members_chunk", file: "developers/events/gateway-events.mdx", table: "Guild Members Chunk Event Fields"},
	{name: "rate_limited", file: "developers/events/gateway-events.mdx", table: "Rate Limited Fields"},
	{name: "application", file: "developers/resources/application.mdx", table: "Application Structure", example: "Example Application Object"},
	{name: "command", file: "developers/interactions/application-commands.mdx", table: "Application Command Structure", example: "Example Slash Command"},
	{name: "interaction", file: "developers/interactions/receiving-and-responding.mdx", table: "Interaction Structure",
		exFile: "developers/interactions/application-commands.mdx", example: "Example Interaction"},
	{name: "command_data", file: "developers/interactions/receiving-and-responding.mdx", table: "Application Command Data Structure"},
	{name: "callback_response", file: "developers/interactions/receiving-and-responding.mdx", table: "Interaction Callback Response Object"},
	{name: "callback", file: "developers/interactions/receiving-and-responding.mdx", table: "Interaction Callback Object"},
	{name: "callback_resource", file: "developers/interactions/receiving-and-responding.mdx", table: "Interaction Callback Resource Object"},
	{name: "gateway_bot", file: "developers/events/gateway.mdx", table: "JSON Response", example: "Example Response"},
	{name: "session_start_limit", file: "developers/events/gateway.mdx", table: "Session Start Limit Structure"},
	{name: "error", file: "developers/topics/opcodes-and-status-codes.mdx", example: "Example JSON Error Response", variant: true},
	// Not in the docs, so written by hand: RESUMED's d is an object on
	// Discord ({"_trace":[...]}), and discord.py indexes into it.
	{name: "resumed"},
}

// shapeFixture is one file of testdata/shapes: the documented fields of an
// object, in the docs' order, as [name, type] with a trailing "?" on the
// name of a field that may be absent, and the docs' example.
type shapeFixture struct {
	Source  string          `json:"source"`
	Table   string          `json:"table,omitempty"`
	Of      string          `json:"example_heading,omitempty"`
	Variant bool            `json:"variant,omitempty"`
	Fields  [][2]string     `json:"fields"`
	Example json.RawMessage `json:"example,omitempty"`
}

func TestShapeFixtures(t *testing.T) {
	if *docsDir == "" {
		// Without the docs, the fixtures must at least agree with
		// themselves: every example value of its documented kind.
		for _, ds := range docShapes {
			fx := loadShape(t, ds.name)
			var ex map[string]any
			if len(fx.Example) > 0 {
				if err := json.Unmarshal(fx.Example, &ex); err != nil {
					t.Fatalf("%s: example: %v", ds.name, err)
				}
			}
			for _, f := range fx.Fields {
				v, ok := ex[strings.TrimSuffix(f[0], "?")]
				if k := docKind(f[1]); ok && k != "" && !kindOf(v, k) {
					t.Errorf("%s: the example's %s = %#v is not the documented %q", ds.name, f[0], v, f[1])
				}
			}
		}
		return
	}
	rev, err := exec.Command("git", "-C", *docsDir, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		t.Fatalf("%s is not a git checkout: %v", *docsDir, err)
	}
	if err := os.MkdirAll(filepath.Join("testdata", "shapes"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, ds := range docShapes {
		if ds.file == "" {
			continue // written by hand
		}
		fx, err := extractShape(*docsDir, ds)
		if err != nil {
			t.Errorf("%s: %v", ds.name, err)
			continue
		}
		fx.Source = "github.com/discord/discord-api-docs@" + strings.TrimSpace(string(rev)) + " " + ds.file
		if ds.exFile != "" {
			fx.Source += " (example: " + ds.exFile + ")"
		}
		if err := os.WriteFile(shapePath(ds.name), formatShape(fx), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func shapePath(name string) string { return filepath.Join("testdata", "shapes", name+".json") }

func loadShape(t *testing.T, name string) shapeFixture {
	t.Helper()
	b, err := os.ReadFile(shapePath(name))
	if err != nil {
		t.Fatal(err)
	}
	var fx shapeFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatalf("%s: %v", shapePath(name), err)
	}
	return fx
}

// extractShape reads an object's table and example out of the docs.
func extractShape(root string, ds docShape) (shapeFixture, error) {
	var fx shapeFixture
	md, err := os.ReadFile(filepath.Join(root, ds.file))
	if err != nil {
		return fx, err
	}
	if ds.table != "" {
		fx.Table = ds.table
		if fx.Fields, err = docTable(string(md), ds.table); err != nil {
			return fx, err
		}
	}
	if ds.example != "" {
		// The example is the first under its heading after the table (Get
		// Gateway and Get Gateway Bot both have an "Example Response").
		exMD := md
		if ds.table != "" {
			exMD = md[bytes.Index(md, []byte(ds.table)):]
		}
		if ds.exFile != "" {
			if exMD, err = os.ReadFile(filepath.Join(root, ds.exFile)); err != nil {
				return fx, err
			}
		}
		ex, err := docExample(string(exMD), ds.example)
		if err != nil {
			return fx, err
		}
		if ds.exD {
			var p struct{ D json.RawMessage }
			if err := json.Unmarshal(ex, &p); err != nil || len(p.D) == 0 {
				return fx, fmt.Errorf("example %q has no d", ds.example)
			}
			ex = p.D
		}
		fx.Example, fx.Of = ex, ds.example
	}
	if ds.variant {
		fx.Variant = true
		if ds.table == "" {
			// No table: the example's own JSON types are the documentation.
			var ex map[string]any
			dec := json.NewDecoder(bytes.NewReader(fx.Example))
			dec.UseNumber()
			dec.Decode(&ex)
			keys := orderedKeys(fx.Example)
			for _, k := range keys {
				fx.Fields = append(fx.Fields, [2]string{k, jsonKind(ex[k])})
			}
		}
	}
	return fx, nil
}

var (
	mdLink    = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	mdNote    = regexp.MustCompile(`\\?\[\d+\\?\]`) // a footnote mark, [2] or \[2\]
	mdHeading = regexp.MustCompile(`^#+\s+(.*?)\s*$`)
)

// section returns the lines between the heading and the next heading.
func section(md, heading string) ([]string, error) {
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		if m := mdHeading.FindStringSubmatch(l); m != nil && m[1] == heading {
			end := i + 1
			for end < len(lines) && !mdHeading.MatchString(lines[end]) {
				end++
			}
			return lines[i+1 : end], nil
		}
	}
	return nil, fmt.Errorf("no heading %q", heading)
}

// docTable reads the Field and Type columns of the first table under a
// heading, links and footnote marks removed.
func docTable(md, heading string) ([][2]string, error) {
	lines, err := section(md, heading)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	fieldCol, typeCol := -1, -1
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "|") {
			if fieldCol >= 0 {
				break // the end of the table
			}
			continue
		}
		cells := strings.Split(strings.Trim(l, "|"), "|")
		for i := range cells {
			c := mdLink.ReplaceAllString(mdNote.ReplaceAllString(cells[i], ""), "$1")
			c = strings.NewReplacer("`", "", `\*`, "", "*", "").Replace(c)
			cells[i] = strings.Join(strings.Fields(c), " ")
		}
		if fieldCol < 0 {
			for i, c := range cells {
				switch strings.ToLower(c) {
				case "field", "name":
					fieldCol = i
				case "type":
					typeCol = i
				}
			}
			if fieldCol < 0 || typeCol < 0 {
				return nil, fmt.Errorf("table under %q has no Field and Type columns: %q", heading, l)
			}
			continue
		}
		if strings.Trim(cells[0], "-: ") == "" {
			continue // the separator row
		}
		out = append(out, [2]string{strings.ReplaceAll(cells[fieldCol], " ", ""), cells[typeCol]})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no table under %q", heading)
	}
	return out, nil
}

var trailingComma = regexp.MustCompile(`,(\s*[}\]])`)

// docExample returns the first JSON block under a heading, compacted.
// Some of the docs' examples carry a trailing comma, which JSON refuses.
func docExample(md, heading string) (json.RawMessage, error) {
	lines, err := section(md, heading)
	if err != nil {
		return nil, err
	}
	var block []string
	in := false
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case !in && strings.HasPrefix(t, "```json"):
			in = true
		case in && strings.HasPrefix(t, "```"):
			src := trailingComma.ReplaceAllString(strings.Join(block, "\n"), "$1")
			var buf bytes.Buffer
			if err := json.Compact(&buf, []byte(src)); err != nil {
				return nil, fmt.Errorf("example %q: %w", heading, err)
			}
			return buf.Bytes(), nil
		case in:
			block = append(block, l)
		}
	}
	return nil, fmt.Errorf("no JSON example under %q", heading)
}

// orderedKeys returns an object's keys in their order in the text.
func orderedKeys(obj json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	var keys []string
	if t, _ := dec.Token(); t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var skip json.RawMessage
		dec.Decode(&skip)
	}
	return keys
}

// formatShape writes a fixture with one field per line, so that a new
// field is one line of a diff.
func formatShape(fx shapeFixture) []byte {
	var b bytes.Buffer
	src, _ := json.Marshal(fx.Source)
	fmt.Fprintf(&b, "{\n  \"source\": %s,\n", src)
	if fx.Table != "" {
		tb, _ := json.Marshal(fx.Table)
		fmt.Fprintf(&b, "  \"table\": %s,\n", tb)
	}
	if fx.Of != "" {
		of, _ := json.Marshal(fx.Of)
		fmt.Fprintf(&b, "  \"example_heading\": %s,\n", of)
	}
	if fx.Variant {
		b.WriteString("  \"variant\": true,\n")
	}
	b.WriteString("  \"fields\": [\n")
	for i, f := range fx.Fields {
		n, _ := json.Marshal(f[0])
		ty, _ := json.Marshal(f[1])
		sep := ","
		if i == len(fx.Fields)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "    [%s, %s]%s\n", n, ty, sep)
	}
	b.WriteString("  ]")
	if len(fx.Example) > 0 {
		var ind bytes.Buffer
		json.Indent(&ind, fx.Example, "  ", "  ")
		fmt.Fprintf(&b, ",\n  \"example\": %s", ind.Bytes())
	}
	b.WriteString("\n}\n")
	return b.Bytes()
}

// docKind turns a documented type into a kind of kindOf; "" is a type
// the test checks only for presence (mixed, "integer or string"...).
func docKind(doc string) string {
	null := ""
	if strings.HasPrefix(doc, "?") {
		null, doc = "?", doc[1:]
	}
	d := strings.ToLower(doc)
	if i := strings.Index(d, " ("); i > 0 && !strings.HasPrefix(d, "array") {
		d = d[:i] // "string (can be null only in ...)"
	}
	kind := ""
	switch {
	case strings.Contains(d, " or "), strings.HasPrefix(d, "mixed"):
	case strings.Contains(d, "iso8601 timestamp"):
		kind = "timestamp"
	case strings.HasPrefix(d, "array"), strings.HasPrefix(d, "list"):
		kind = "array"
	case d == "snowflake":
		kind = "snowflake"
	case d == "string":
		kind = "string"
	case d == "integer":
		kind = "int"
	case d == "float", d == "number":
		kind = "number"
	case d == "boolean":
		kind = "bool"
	case strings.HasSuffix(d, "object"), strings.HasSuffix(d, "resource"), strings.HasPrefix(d, "dictionary"):
		kind = "object"
	}
	if kind == "" {
		return ""
	}
	return null + kind
}

// jsonKind names a decoded value's type as the docs would.
func jsonKind(v any) string {
	switch v := v.(type) {
	case string:
		if snowflakeRE.MatchString(v) {
			return "snowflake"
		}
		return "string"
	case json.Number:
		return "integer"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?mixed"
}
