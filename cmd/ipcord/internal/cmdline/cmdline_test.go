package cmdline_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/cmd/ipcord/internal/cmdline"
)

func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantN   int
	}{
		{[]string{"ping", "--n", "3"}, []string{"ping"}, 3},
		{[]string{"--n", "3", "ping", "a=1"}, []string{"ping", "a=1"}, 3},
		{[]string{"ping", "--", "--n", "4"}, []string{"ping", "--n", "4"}, 0},
		{[]string{"--", "-x"}, []string{"-x"}, 0},
		{nil, nil, 0},
	}
	for _, tt := range tests {
		fs := cmdline.NewFlags(&bytes.Buffer{}, &bytes.Buffer{}, "ipcord t", "")
		n := fs.Int("n", 0, "")
		pos, err := fs.Parse(tt.args)
		if err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if !reflect.DeepEqual(pos, tt.wantPos) || *n != tt.wantN {
			t.Errorf("%q: got %q n=%d, want %q n=%d", tt.args, pos, *n, tt.wantPos, tt.wantN)
		}
	}
}

// A bad flag says what is wrong, with the command's prefix, before the
// usage, all on stderr; -h and --help print the help on stdout.
func TestParseErrorsAndHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	fs := cmdline.NewFlags(&stdout, &stderr, "ipcord t", "ROUTE")
	fs.About("Calls ROUTE.")
	fs.Int("n", 0, "how many")
	_, err := fs.Parse([]string{"--nope"})
	want := "ipcord t: flag provided but not defined: -nope\n\nusage: ipcord t ROUTE\n"
	if !errors.Is(err, cmdline.ErrUsage) || !strings.HasPrefix(stderr.String(), want) || stdout.Len() != 0 {
		t.Fatalf("bad flag: %v, stderr %q, stdout %q; want stderr to start %q", err, stderr.String(), stdout.String(), want)
	}
	for _, h := range []string{"-h", "--help", "-help"} {
		stdout.Reset()
		stderr.Reset()
		_, err := fs.Parse([]string{"x", h})
		if !errors.Is(err, cmdline.ErrHelp) || !strings.HasPrefix(stdout.String(), "usage: ipcord t ROUTE\n\nCalls ROUTE.\n\nflags:\n  -n int") || stderr.Len() != 0 {
			t.Fatalf("%s: %v, stdout %q, stderr %q", h, err, stdout.String(), stderr.String())
		}
	}
	stderr.Reset()
	if err := fs.Fail("missing %s", "ROUTE"); !errors.Is(err, cmdline.ErrUsage) || !strings.HasPrefix(stderr.String(), "ipcord t: missing ROUTE\n\nusage:") {
		t.Fatalf("Fail: %v, stderr %q", err, stderr.String())
	}
	fs = cmdline.NewFlags(&stdout, &stderr, "ipcord t", "")
	fs.String("s", "", "")
	fs.Parse([]string{"-s", ""})
	if !fs.Given("s") {
		t.Fatal("Given(s) = false after -s ''")
	}
}

func TestCallArgs(t *testing.T) {
	for _, tt := range []struct {
		json  string
		pairs []string
		want  string
		bad   bool
	}{
		{"", nil, "", false},
		{`[1,"x"]`, nil, `[1,"x"]`, false},
		{"", []string{"n=5", "name=ann", `o={"a":[1]}`, "s=", "t=true"}, `{"n":5,"name":"ann","o":{"a":[1]},"s":"","t":true}`, false},
		{`{"a":1}`, []string{"n=5"}, "", true},
		{`{bad`, nil, "", true},
		{"", []string{"novalue"}, "", true},
		{"", []string{"=5"}, "", true},
	} {
		got, err := cmdline.CallArgs(tt.json, tt.pairs)
		if (err != nil) != tt.bad || string(got) != tt.want {
			t.Errorf("CallArgs(%q, %q) = %s, %v", tt.json, tt.pairs, got, err)
		}
	}
}

func ExampleCallArgs() {
	args, err := cmdline.CallArgs("", []string{"guild=42", "name=general", "limit=10"})
	fmt.Println(string(args), err)
	// Output: {"guild":42,"limit":10,"name":"general"} <nil>
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		err    error
		code   int
		stderr string
	}{
		{nil, 0, ""},
		{cmdline.ErrHelp, 0, ""},
		{cmdline.ErrUsage, 2, ""},
		{fmt.Errorf("wrapped: %w", cmdline.ErrUsage), 2, ""},
		{cmdline.ExitError{Code: 3}, 3, ""},
		{errors.New("boom"), 1, "ipcord call: boom\n"},
	} {
		var stderr bytes.Buffer
		if code := cmdline.ExitCode(&stderr, "ipcord call", tt.err); code != tt.code || stderr.String() != tt.stderr {
			t.Errorf("ExitCode(%v) = %d, %q; want %d, %q", tt.err, code, stderr.String(), tt.code, tt.stderr)
		}
	}
}
