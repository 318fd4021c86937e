package ipc

import (
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

// Polling a quiet socket for a moment before parking (Server.BusyPoll,
// ClientConfig.BusyPoll).
//
// When a goroutine parks on an empty socket and its thread goes idle, the
// CPU it ran on halts; waking it when the peer's message arrives costs
// 25–30 µs on a virtual machine whose guest does not poll before halting
// (an exit to the hypervisor and back), more than the rest of a loopback
// call, and the kernel tends to wake the reader on its waker's CPU, where
// the two then take turns. A connection whose messages come back to back
// (a caller waiting on one reply after another, a server answering them)
// paid that on every message, on both sides. So a read that finds the
// socket empty polls it, for up to the BusyPoll time, before it parks.
//
// Polling costs a CPU, so it is bounded three ways:
//   - only while it pays: a poll that ends with nothing sends the next 1,
//     3, 7, … up to 1,023 reads of that connection straight to the poller,
//     so a connection whose messages are far apart (a dashboard calling now
//     and then) spends at most one BusyPoll per thousand reads;
//   - one reader of a process polls at a time (the others park at once),
//     so polling never holds more than one of the process's Ps;
//   - a process with one P (GOMAXPROCS=1, often one pinned to a CPU) gives
//     that P and the CPU away between polls, to its other goroutines and to
//     a peer that may share the CPU. With more Ps it does not: handing the
//     goroutine to the scheduler moves it between threads and CPUs, which
//     is what polling is there to avoid, and the other Ps run the rest.
//
// A read deadline that passes, or a Close, during a poll is noticed when
// the poll ends, at most BusyPoll later.

// pollHeld is set while one reader of the process polls.
var pollHeld atomic.Bool

// spinner is one reading direction's polling state.
type spinner struct {
	limit   time.Duration // 0: never poll
	miss    uint8         // polls in a row that ended with nothing
	skip    uint16        // reads left to park without polling
	polling bool          // this read polls (and holds pollHeld), until end
	found   bool          // and found data
	parked  bool          // this read has gone to the poller
	share   bool          // give the P and the CPU away between polls
	quiet   atomic.Bool   // the reader expects no message soon: park at once (atomic for tests that look)
	end     time.Time
}

// begin starts a read.
func (s *spinner) begin() { s.polling, s.found, s.parked = false, false, false }

// empty is called when the read found the socket empty: it reports
// whether to read again now (true) or to wait in the poller (false).
func (s *spinner) empty() bool {
	if s.parked {
		return false
	}
	if !s.polling {
		if s.quiet.Load() {
			s.parked = true
			return false
		}
		if s.limit <= 0 || s.skip > 0 || !pollHeld.CompareAndSwap(false, true) {
			s.skip -= min(s.skip, 1)
			s.parked = true
			return false
		}
		s.polling, s.end = true, time.Now().Add(s.limit)
		s.share = runtime.GOMAXPROCS(0) == 1
	}
	if s.share {
		runtime.Gosched()
		syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
	}
	if time.Now().After(s.end) {
		// One last read, then the poller.
		s.miss = min(s.miss+1, 10)
		s.skip = 1<<s.miss - 1
		s.stop()
		s.parked = true
	}
	return true
}

// got is called when the read found data.
func (s *spinner) got() { s.found = s.polling }

// done ends the read, however it ended.
func (s *spinner) done() {
	if s.polling {
		if s.found {
			s.miss, s.skip = 0, 0
		}
		s.stop()
	}
}

func (s *spinner) stop() {
	s.polling = false
	pollHeld.Store(false)
}
