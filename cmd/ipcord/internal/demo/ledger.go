package demo

import (
	"encoding/json"
	"sync"
)

// ShardRecord is one shard's event accounting as a bot process keeps it:
// which seqs it handled, counted across every generation the shard passed
// through, since a deploy carries the record with the shard.
type ShardRecord struct {
	SessionID string `json:"session_id"`
	// FirstSeq and LastSeq are the first and the last seq handled.
	FirstSeq int64 `json:"first_seq"`
	LastSeq  int64 `json:"last_seq"`
	// Handled counts the events handled.
	Handled int64 `json:"handled"`
	// Gaps counts the seqs skipped, Repeats the events whose seq was
	// already handled: both zero when every seq was handled exactly once.
	Gaps    int64 `json:"gaps"`
	Repeats int64 `json:"repeats"`
	// Identifies and Resumes count the sessions started (READY) and
	// resumed (RESUMED).
	Identifies int `json:"identifies"`
	Resumes    int `json:"resumes"`
}

// ledger keeps the ShardRecords of the shards a process runs.
type ledger struct {
	mu      sync.Mutex
	records map[int]*ShardRecord
}

func newLedger() *ledger { return &ledger{records: map[int]*ShardRecord{}} }

// observe accounts for one handled event. READY starts a new session,
// whose seqs start again at 1.
func (l *ledger) observe(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.records[ev.Shard]
	if r == nil {
		r = &ShardRecord{}
		l.records[ev.Shard] = r
	}
	if ev.Name == "READY" {
		var d struct {
			SessionID string `json:"session_id"`
		}
		json.Unmarshal(ev.Data, &d)
		r.SessionID = d.SessionID
		r.LastSeq = 0
		r.Identifies++
	}
	if ev.Name == "RESUMED" {
		r.Resumes++
	}
	switch {
	case r.Handled == 0:
		r.FirstSeq = ev.Seq
		if ev.Seq > 1 && ev.Name != "READY" {
			r.Gaps += ev.Seq - 1
		}
	case ev.Seq <= r.LastSeq:
		r.Repeats++
	case ev.Seq > r.LastSeq+1:
		r.Gaps += ev.Seq - r.LastSeq - 1
	}
	r.Handled++
	r.LastSeq = max(r.LastSeq, ev.Seq)
}

// get returns a copy of shard id's record.
func (l *ledger) get(id int) ShardRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r := l.records[id]; r != nil {
		return *r
	}
	return ShardRecord{}
}

// set replaces shard id's record (one carried from the previous owner).
func (l *ledger) set(id int, r ShardRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records[id] = &r
}

// total sums the records' gaps, repeats and IDENTIFYs.
func (l *ledger) total() ShardRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var t ShardRecord
	for _, r := range l.records {
		t.Gaps += r.Gaps
		t.Repeats += r.Repeats
		t.Identifies += r.Identifies
	}
	return t
}
