package demo

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ipcord/ipcord/gateway/shard"
)

// The bot gets a shard's event whole: the time it was read too, which an
// interaction's deadline counts from (the shard gateway and `ipcord bot`
// both convert with eventOf).
func TestEventOfKeepsReceived(t *testing.T) {
	at := time.Now().Add(-time.Second)
	e := eventOf(shard.Event{Shard: 2, Seq: 7, Name: "X", Data: json.RawMessage(`{}`), Received: at})
	if e.Shard != 2 || e.Seq != 7 || e.Name != "X" || string(e.Data) != `{}` || !e.Received.Equal(at) {
		t.Fatalf("%+v", e)
	}
}
