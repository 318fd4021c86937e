package ipc

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
)

// Result is one client's answer to a Broadcast: its data, or the error
// that call ended with.
type Result struct {
	Client string
	Data   json.RawMessage
	Err    error
}

// Broadcast calls route on every connected client at once and returns one
// Result per client, sorted by client identifier. It returns when every
// client has answered or ctx ends (the server's CallTimeout applies when
// ctx has no deadline): clients that did not answer in time get a timeout
// error in their Result, and a dead client costs no more than the deadline.
func (s *Server) Broadcast(ctx context.Context, route string, args any) []Result {
	s.init()
	s.mu.Lock()
	clients := maps.Clone(s.clients)
	s.mu.Unlock()
	ids := slices.Sorted(maps.Keys(clients))
	results := make([]Result, len(ids))
	a, err := encodeArgs(args)
	var wg sync.WaitGroup
	for i, id := range ids {
		results[i].Client = id
		if err != nil {
			results[i].Err = err
			continue
		}
		wg.Go(func() {
			results[i].Err = clients[id].Call(ctx, route, json.RawMessage(a), &results[i].Data)
		})
	}
	wg.Wait()
	return results
}
