package main

import (
	"bytes"
	"reflect"
	"testing"
)

func TestParseFlagsInterspersed(t *testing.T) {
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
		var buf bytes.Buffer
		fs := newFlags(&env{stderr: &buf}, "t", "")
		n := fs.Int("n", 0, "")
		pos, err := parseFlags(fs, tt.args)
		if err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if !reflect.DeepEqual(pos, tt.wantPos) || *n != tt.wantN {
			t.Errorf("%q: got %q n=%d, want %q n=%d", tt.args, pos, *n, tt.wantPos, tt.wantN)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errb bytes.Buffer
	code := runMain(t.Context(), &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}, []string{"nope"})
	if code != 2 || !bytes.Contains(errb.Bytes(), []byte(`unknown command "nope"`)) {
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
}
