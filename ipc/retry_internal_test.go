package ipc

import (
	"context"
	"errors"
	"testing"
)

// A retry loop whose context ends reports the last attempt that failed
// for a reason of its own, not the one the context's end cut short.
func TestLastFailureSkipsTheAttemptTheDeadlineCut(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	refused, busy, cut := errors.New("refused"), errors.New("503"), errors.New("i/o timeout")
	var last lastFailure
	last.note(ctx, refused)
	last.note(ctx, busy)
	cancel()
	last.note(ctx, cut)
	if last.err != busy {
		t.Fatalf("after an attempt cut by the context: %v, want the attempt before it (503)", last.err)
	}
	// With nothing before it, the cut attempt is all there is to say.
	var first lastFailure
	first.note(ctx, cut)
	if first.err != cut {
		t.Fatalf("only attempt: %v, want it", first.err)
	}
}
