package natsipc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ipcord/ipcord/gateway/shard"
)

// Mark names the last event of a shard whose effects a handler made
// durable: the Session and Seq of that shard.Event.
type Mark struct {
	Session string `json:"session"`
	Seq     int64  `json:"seq"`
}

// Marks tells a Fleet which events of a shard were handled already, so
// that a member resuming a dead member's shard from its checkpoint resumes
// after the last event handled instead (FleetConfig.Marks): dedupe.
//
// Nothing is repeated only when the mark is durable together with the
// handler's effects. A handler that writes to a database records the
// event's Shard, Session and Seq in the same transaction as its effects,
// and the bot implements Marks by reading them back: a crash then repeats
// no event. KVMarks is the default for handlers that cannot: they mark
// each event once its effects are done, so a crash between the two
// repeats that one event (at most one per shard the dead member held).
type Marks interface {
	// Handled returns shard's mark, the zero Mark when it has none. An
	// error makes the member leave the shard for a later try rather than
	// resume it with repeats.
	Handled(ctx context.Context, shard int) (Mark, error)
}

// ErrMarks: reading or writing a mark in key-value failed.
var ErrMarks = errors.New("natsipc: marks")

// KVMarks keeps the marks of a fleet's shards in JetStream key-value
// (bucket ipcord_mark_<fleet>), one key per shard: Marks for handlers
// whose effects have no store of their own to keep the mark in. Its bound
// is one repeated event per shard per crash (see Marks). A Mark costs a
// key-value write (a round trip to NATS) per event.
type KVMarks struct {
	kv jetstream.KeyValue
}

// NewKVMarks creates (or opens) fleet's mark bucket on nc's JetStream.
func NewKVMarks(ctx context.Context, nc *nats.Conn, fleet string) (*KVMarks, error) {
	if !fleetName.MatchString(fleet) || nc == nil {
		return nil, fmt.Errorf("%w: a fleet name ([A-Za-z0-9_-]{1,64}) and a connection are required", ErrMarks)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("%w: JetStream: %w", ErrMarks, err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: "ipcord_mark_" + fleet, Description: "ipcord: the last event handled per shard", History: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: key-value bucket: %w", ErrMarks, err)
	}
	return &KVMarks{kv: kv}, nil
}

// Mark records ev as handled. Call it from the handler once ev's effects
// are done.
func (m *KVMarks) Mark(ctx context.Context, ev shard.Event) error {
	b, _ := json.Marshal(Mark{Session: ev.Session, Seq: ev.Seq})
	if _, err := m.kv.Put(ctx, leaseKey(ev.Shard), b); err != nil {
		return fmt.Errorf("%w: shard %d: %w", ErrMarks, ev.Shard, err)
	}
	return nil
}

// Handled implements Marks.
func (m *KVMarks) Handled(ctx context.Context, id int) (Mark, error) {
	e, err := m.kv.Get(ctx, leaseKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Mark{}, nil
	}
	if err != nil {
		return Mark{}, fmt.Errorf("%w: shard %d: %w", ErrMarks, id, err)
	}
	var mk Mark
	if err := json.Unmarshal(e.Value(), &mk); err != nil {
		return Mark{}, fmt.Errorf("%w: shard %d: %w", ErrMarks, id, err)
	}
	return mk, nil
}
