//go:build unix

package cputime_test

import (
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/cputime"
)

// Busy work shows up as CPU time; the clock only moves forward.
func TestProcessCountsWork(t *testing.T) {
	start := cputime.Process()
	if start <= 0 {
		t.Fatalf("Process() = %v at the start, want the time used so far", start)
	}
	x := 1
	for deadline := time.Now().Add(10 * time.Second); cputime.Process()-start < 20*time.Millisecond; {
		for i := range 1_000_000 {
			x = x*31 + i
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s of busy work added %v of CPU time", cputime.Process()-start)
		}
	}
	if x == 0 {
		t.Log(x) // keeps the loop from being optimised away
	}
}
