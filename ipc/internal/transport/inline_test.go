package transport

import (
	"testing"
	"time"
)

func TestRouteStats(t *testing.T) {
	var s RouteStats
	a := s.Get("a")
	if s.Get("a") != a || s.Get("b") == a {
		t.Fatal("Get must return one RouteStat per route")
	}
	if !a.Inline() {
		t.Fatal("a route starts fast")
	}
	a.Stalled(time.Millisecond)
	if a.Inline() {
		t.Fatal("a route that stalled must run elsewhere")
	}
	// Fast handlers timed elsewhere bring it back, gradually.
	n := 0
	for ; !a.Inline(); n++ {
		a.Record(time.Microsecond)
	}
	if n < 10 || n > 40 {
		t.Fatalf("back inline after %d fast handlers, want 10..40", n)
	}
	timed := 0
	for range 10 * sampleInline {
		if a.Timed() {
			timed++
		}
	}
	if timed != 10 {
		t.Fatalf("%d of %d inline runs timed, want 10", timed, 10*sampleInline)
	}
}
