package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/ipc/natsipc"
)

// The journal as a mark store: the last complete line of a shard is its
// mark; other shards' lines, a line cut short and a missing file are no
// mark.
func TestJournalMarks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal")
	j := journalMarks(path)
	if mk, err := j.Handled(context.Background(), 1); err != nil || mk != (natsipc.Mark{}) {
		t.Fatalf("no journal: %+v, %v", mk, err)
	}
	lines := "1 1 READY 10 1 s1\n11 9 X 10 1 s1\n1 2 MESSAGE_CREATE 10 1 s1\n2 5 X 10 1 s2\n1 3 MESSAGE_CREATE 11 2 s1\n1 4 MESS"
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int]natsipc.Mark{1: {Session: "s1", Seq: 3}, 2: {Session: "s2", Seq: 5}, 11: {Session: "s1", Seq: 9}, 3: {}} {
		if mk, err := j.Handled(context.Background(), id); err != nil || mk != want {
			t.Errorf("shard %d: %+v, %v; want %+v", id, mk, err, want)
		}
	}
}

// FuzzJournalLine: any line is a journal entry or refused, and an entry
// written back as a line reads the same.
func FuzzJournalLine(f *testing.F) {
	f.Fuzz(func(t *testing.T, line string) {
		id, rest, ok := strings.Cut(line, " ")
		shard, err := strconv.Atoi(id)
		if !ok || err != nil {
			return
		}
		ev, ok := parseJournalLine(shard, rest)
		if !ok {
			return
		}
		if ev.Shard != shard || ev.Name == "" || ev.Session == "" || strings.ContainsAny(ev.Name+ev.Session, " \t\n") {
			t.Fatalf("%q read as %+v", line, ev)
		}
		again, ok := parseJournalLine(shard, fmt.Sprintf("%d %s 1 1 %s", ev.Seq, ev.Name, ev.Session))
		if !ok || again.Seq != ev.Seq || again.Name != ev.Name || again.Session != ev.Session {
			t.Fatalf("%+v written back reads as %+v", ev, again)
		}
	})
}
