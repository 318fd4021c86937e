package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The rules TestREADME follows, on a made-up README: each one passes when
// the README is right, and each kind of mistake fails it.
func TestREADMERules(t *testing.T) {
	const readme = "# x\n\n" +
		"```sh\n" +
		"export GREETING=hello   # a comment, no output promised\n" +
		"msg=\"a # not a comment\"\n" +
		"echo \"$GREETING $msg\"   # → hello a # not a comment\n" +
		"false   # exits 1\n" +
		"echo one \\\n  two   # → one two\n" +
		"sh -c 'echo ready; sleep 600' &   # → ready\n" +
		"sh -c 'echo up; exec sleep 600'   # until Ctrl-C → up\n" +
		"echo after   # → aft…r\n" +
		"```\n\n" +
		"```go\n" +
		"fmt.Println(strings.ToUpper(os.Getenv(\"GREETING\"))) // → HELLO\n" +
		"```\n"
	steps, err := parseREADME(readme)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 9 || !steps[5].bg || !steps[6].untilC || steps[3].exit != 1 || steps[4].code != "echo one \\\n  two" || !steps[7].lastInB || steps[8].lang != "go" {
		t.Fatalf("parsed %+v", steps)
	}
	dir := t.TempDir()
	// The Go snippet runs in a module, as in the clone.
	os.WriteFile(dir+"/go.mod", []byte("module x\n\ngo 1.26\n"), 0o644)
	if err := followSteps(t, dir, steps); err != nil {
		t.Fatalf("a right README failed: %v", err)
	}
	for _, bad := range []struct{ readme, want string }{
		{"```sh\necho hi   # → bye\n```\n", `the README says it prints "bye"`},
		{"```sh\nfalse\n```\n", "exited 1, want 0"},
		{"```sh\ntrue   # exits 3\n```\n", "exited 0, want 3"},
		{"```sh\nsh -c 'exit 0' &   # → never\n```\n", "ended before printing"},
		{"```go\nfmt.Println(\"x\") // → y\n```\n", `the README says it prints "y"`},
		{"```go\nx := 1\n```\n", "declared and not used"},
	} {
		err := followSteps(t, dir, mustParse(t, bad.readme))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: got %v, want an error with %q", bad.readme, err, bad.want)
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal(err)
	}
}

func mustParse(t *testing.T, readme string) []step {
	t.Helper()
	s, err := parseREADME(readme)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
