package transport

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
)

func TestContext(t *testing.T) {
	leaktest.Check(t)
	t.Run("deadline", func(t *testing.T) {
		h := NewContext(request{Route: "r"}, time.Now().Add(20*time.Millisecond), nil)
		defer h.Cancel()
		select {
		case <-h.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done never closed at the deadline")
		}
		if !errors.Is(h.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err = %v", h.Err())
		}
		if r, _ := h.Value(RequestKey{}).(*request); r != h.Request() || r.Route != "r" {
			t.Fatalf("Value(RequestKey{}) = %+v", r)
		}
	})
	t.Run("past deadline without waiting", func(t *testing.T) {
		h := NewContext(request{}, time.Now().Add(-time.Second), nil)
		if !errors.Is(h.Err(), context.DeadlineExceeded) {
			t.Fatalf("Err = %v", h.Err())
		}
		h.Cancel()
	})
	t.Run("derived context follows cancel", func(t *testing.T) {
		h := NewContext(request{}, time.Now().Add(time.Hour), nil)
		child, stop := context.WithCancel(h)
		defer stop()
		h.Cancel()
		select {
		case <-child.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("derived context did not end")
		}
	})
	t.Run("group", func(t *testing.T) {
		var g Group[request]
		waited := NewContext(request{}, time.Now().Add(time.Hour), &g)
		unwaited := NewContext(request{}, time.Now().Add(time.Hour), &g)
		done := waited.Done() // joins the group
		finished := NewContext(request{}, time.Now().Add(time.Hour), &g)
		finished.Done()
		finished.Cancel() // the group forgets it
		g.mu.Lock()
		n := len(g.running)
		g.mu.Unlock()
		if n != 1 {
			t.Fatalf("group tracks %d contexts, want 1 (the waited one)", n)
		}
		if unwaited.Err() != nil {
			t.Fatalf("unwaited context ended early: %v", unwaited.Err())
		}
		g.Cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("group Cancel did not end a waited context")
		}
		if !errors.Is(unwaited.Err(), context.Canceled) {
			t.Fatalf("unwaited context after group Cancel: %v", unwaited.Err())
		}
		late := NewContext(request{}, time.Now().Add(time.Hour), &g)
		select {
		case <-late.Done():
		default:
			t.Fatal("a context made after the group was canceled is not done")
		}
		waited.Cancel()
		unwaited.Cancel()
		late.Cancel()
	})
}
