package syncbuf_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/ipcord/ipcord/internal/syncbuf"
)

// Writers and a reader at once: -race finds any unguarded access, and
// nothing written is lost.
func TestBufferConcurrent(t *testing.T) {
	var buf syncbuf.Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				buf.Write([]byte("x"))
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			_ = buf.String()
		}
	})
	wg.Wait()
	if got := strings.Count(buf.String(), "x"); got != 400 {
		t.Fatalf("%d bytes written, want 400", got)
	}
}
