package leaktest_test

import (
	"testing"

	"github.com/ipcord/ipcord/internal/leaktest"
)

// A test of something long-lived calls Check first; Check's cleanup then
// runs after the cleanups that stop what the test started, and fails the
// test if a goroutine outlives them.
func ExampleCheck() {
	testServer := func(t *testing.T) {
		leaktest.Check(t)
		stop := make(chan struct{})
		go func() { <-stop }() // stands for the server under test
		t.Cleanup(func() { close(stop) })
	}
	_ = testServer
}
