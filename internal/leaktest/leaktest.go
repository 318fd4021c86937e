package leaktest

import (
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
)

// grace is how long Check waits for goroutines to finish on their own.
var grace = 5 * time.Second

// Check records the goroutines running now and, when t ends (after the
// cleanups registered later have run), fails t if new ones are still running
// after a grace period of up to five seconds. Call it first in a test, before
// starting anything, so its cleanup runs last.
func Check(t testing.TB) {
	t.Helper()
	before := goroutineIDs()
	t.Cleanup(func() {
		var leaked []string
		deadline := time.Now().Add(grace)
		for {
			leaked = leaked[:0]
			for id, stack := range goroutines() {
				if _, ok := before[id]; !ok && !ignored(stack) {
					leaked = append(leaked, stack)
				}
			}
			if len(leaked) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(leaked) > 0 {
			sort.Strings(leaked)
			t.Errorf("leaktest: %d goroutine(s) leaked:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	})
}

// ignored reports goroutines that belong to the runtime or the test
// framework, not to the code under test.
func ignored(stack string) bool {
	for _, s := range []string{
		"testing.(*T).Run",
		"testing.(*T).Parallel",
		"testing.tRunner.func1",
		"testing.runTests",
		"testing.(*M).",
		"runtime.goexit",
		"os/signal.signal_recv",
		"os/signal.loop",
		"runtime/trace.Start",
		"created by runtime.gc",
		"created by testing.(*T).Run",
		"runtime.ensureSigM",
	} {
		if strings.Contains(firstFrame(stack), s) || (strings.HasPrefix(s, "created by") && strings.Contains(stack, s) && strings.Count(stack, "\n") < 4) {
			return true
		}
	}
	return strings.Contains(stack, "testing.tRunner(") && strings.Contains(firstFrame(stack), "testing.")
}

func firstFrame(stack string) string {
	lines := strings.SplitN(stack, "\n", 3)
	if len(lines) < 2 {
		return stack
	}
	return lines[1]
}

func goroutineIDs() map[string]struct{} {
	ids := map[string]struct{}{}
	for id := range goroutines() {
		ids[id] = struct{}{}
	}
	return ids
}

// goroutines returns every goroutine's stack keyed by its id, the current
// one excluded.
func goroutines() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := map[string]string{}
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i == 0 {
			continue // the goroutine calling us
		}
		// "goroutine 18 [running]:"
		head, _, _ := strings.Cut(g, " [")
		out[head] = g
	}
	return out
}
