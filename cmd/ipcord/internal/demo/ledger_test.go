package demo

import "testing"

func TestLedgerCounts(t *testing.T) {
	l := newLedger()
	for _, seq := range []int64{1, 2, 3, 5, 5, 4, 6} {
		name := "MESSAGE_CREATE"
		if seq == 1 {
			name = "READY"
		}
		l.observe(Event{Shard: 2, Seq: seq, Name: name, Data: []byte(`{"session_id":"s1"}`)})
	}
	r := l.get(2)
	want := ShardRecord{SessionID: "s1", FirstSeq: 1, LastSeq: 6, Handled: 7, Gaps: 1, Repeats: 2, Identifies: 1}
	if r != want {
		t.Fatalf("got %+v, want %+v", r, want)
	}
	// A record carried from a previous generation goes on from its seq.
	l2 := newLedger()
	l2.set(2, r)
	l2.observe(Event{Shard: 2, Seq: 7, Name: "RESUMED"})
	if r2 := l2.get(2); r2.LastSeq != 7 || r2.Handled != 8 || r2.Gaps != 1 || r2.FirstSeq != 1 || r2.Resumes != 1 {
		t.Fatalf("after the move: %+v", r2)
	}
	// A first event after seq 1 of a shard never seen is a gap.
	l3 := newLedger()
	l3.observe(Event{Shard: 0, Seq: 4, Name: "MESSAGE_CREATE"})
	if r3 := l3.get(0); r3.Gaps != 3 {
		t.Fatalf("first event at 4: %+v", r3)
	}
}
