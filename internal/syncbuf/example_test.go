package syncbuf_test

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/ipcord/ipcord/internal/syncbuf"
)

// A logger writes from several goroutines while the caller reads.
func ExampleBuffer() {
	var buf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { log.Info("hello", "n", i) })
	}
	wg.Wait()
	fmt.Println(strings.Count(buf.String(), "msg=hello"))
	// Output: 3
}
