package leaktest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// recorder captures what Check reports, so the failure path can be tested.
type recorder struct {
	testing.TB
	cleanups []func()
	errs     []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

func TestCheckReportsLeak(t *testing.T) {
	defer func(g time.Duration) { grace = g }(grace)
	grace = 50 * time.Millisecond
	r := &recorder{TB: t}
	Check(r)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { <-stop; close(done) }()
	// The goroutine stays blocked until after the cleanup: it must be reported.
	r.cleanups[0]()
	close(stop)
	<-done
	if len(r.errs) == 0 || !strings.Contains(r.errs[0], "leaked") {
		t.Fatalf("leak not reported: %q", r.errs)
	}
}

func TestCheckPassesWhenGoroutinesEnd(t *testing.T) {
	r := &recorder{TB: t}
	Check(r)
	done := make(chan struct{})
	go func() { close(done) }()
	<-done
	r.cleanups[0]()
	if len(r.errs) != 0 {
		t.Fatalf("unexpected report: %q", r.errs)
	}
}
