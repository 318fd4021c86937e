package natsipc_test

import (
	"context"
	"database/sql"
	"log"

	"github.com/ipcord/ipcord/gateway/shard"
	"github.com/ipcord/ipcord/ipc/natsipc"
)

// store is a bot's own database: the handler's effects and the marks of
// the events handled are written in one transaction.
type store struct{ db *sql.DB }

func (s store) handle(ctx context.Context, ev shard.Event) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// ... the handler's effects, through tx ...
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO marks (shard, session, seq) VALUES (?, ?, ?)
		 ON CONFLICT (shard) DO UPDATE SET session = excluded.session, seq = excluded.seq`,
		ev.Shard, ev.Session, ev.Seq); err != nil {
		return err
	}
	return tx.Commit()
}

// Handled implements natsipc.Marks: what the transactions committed.
func (s store) Handled(ctx context.Context, id int) (natsipc.Mark, error) {
	var m natsipc.Mark
	err := s.db.QueryRowContext(ctx, `SELECT session, seq FROM marks WHERE shard = ?`, id).Scan(&m.Session, &m.Seq)
	if err == sql.ErrNoRows {
		return natsipc.Mark{}, nil
	}
	return m, err
}

// A bot whose handler keeps the mark of each event in the transaction of
// its effects gives the Fleet that store as its Marks: a member killed
// mid-stream then costs no repeated event, since the member resuming its
// shards resumes after the last event committed.
func ExampleMarks() {
	var db *sql.DB // the bot's database
	s := store{db: db}
	_ = shard.Config{Handler: func(ctx context.Context, ev shard.Event) {
		if err := s.handle(ctx, ev); err != nil {
			log.Printf("shard %d, seq %d: %v", ev.Shard, ev.Seq, err) // a real bot retries
		}
	}}
	_ = natsipc.FleetConfig{Name: "mybot", Marks: s /* , Node, Manager, Source... */}
}
