package corpus_test

import (
	"bytes"
	"testing"

	"github.com/ipcord/ipcord/gateway/internal/corpus"
)

func TestShape(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("builds a 12 MB corpus twice: run without -race and -short")
	}
	c := corpus.Generate()
	if len(c.Msgs) != 5000 || len(c.Zlib) != 5000 || len(c.Zstd) != 5000 {
		t.Fatalf("%d/%d/%d messages", len(c.Msgs), len(c.Zlib), len(c.Zstd))
	}
	var big, guilds, dFirst, small, smallBytes int
	for _, m := range c.Msgs {
		switch {
		case len(m) > 5<<20:
			big++
		case bytes.Contains(m[:40], []byte("GUILD_CREATE")) && len(m) > 30<<10 && len(m) < 80<<10:
			guilds++
		case bytes.HasPrefix(m, []byte(`{"d":`)):
			dFirst++
		}
		if bytes.Contains(m[:40], []byte("MESSAGE_CREATE")) || bytes.Contains(m[:40], []byte("TYPING_START")) || bytes.Contains(m[:40], []byte("PRESENCE_UPDATE")) {
			small++
			smallBytes += len(m)
		}
	}
	if big != 1 || guilds != 26 || dFirst != 50 {
		t.Fatalf("big=%d guilds=%d d-first=%d", big, guilds, dFirst)
	}
	if avg := smallBytes / small; avg < 500 || avg > 2000 {
		t.Fatalf("small events average %d bytes, want about 1 KB", avg)
	}
	if c2 := corpus.Generate(); !bytes.Equal(c2.Zstd[100], c.Zstd[100]) {
		t.Fatal("not deterministic")
	}
}
