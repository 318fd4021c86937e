package cmdline_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
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
		fs := cmdline.NewFlagSet(&bytes.Buffer{}, "ipcord", "t", "")
		n := fs.Int("n", 0, "")
		pos, err := cmdline.Parse(fs, tt.args)
		if err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if !reflect.DeepEqual(pos, tt.wantPos) || *n != tt.wantN {
			t.Errorf("%q: got %q n=%d, want %q n=%d", tt.args, pos, *n, tt.wantPos, tt.wantN)
		}
	}
	var stderr bytes.Buffer
	fs := cmdline.NewFlagSet(&stderr, "ipcord", "t", "ROUTE")
	if _, err := cmdline.Parse(fs, []string{"--nope"}); !errors.Is(err, cmdline.ErrUsage) || !bytes.Contains(stderr.Bytes(), []byte("usage: ipcord t ROUTE")) {
		t.Fatalf("bad flag: %v, stderr %q", err, stderr.String())
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
		{cmdline.ErrUsage, 2, ""},
		{fmt.Errorf("wrapped: %w", cmdline.ErrUsage), 2, ""},
		{cmdline.ExitError{Code: 3}, 3, ""},
		{errors.New("boom"), 1, "ipcord call: boom\n"},
	} {
		var stderr bytes.Buffer
		if code := cmdline.ExitCode(&stderr, "ipcord", "call", tt.err); code != tt.code || stderr.String() != tt.stderr {
			t.Errorf("ExitCode(%v) = %d, %q; want %d, %q", tt.err, code, stderr.String(), tt.code, tt.stderr)
		}
	}
}
