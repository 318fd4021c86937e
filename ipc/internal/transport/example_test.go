package transport_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ipcord/ipcord/ipc/internal/transport"
)

// request and callError stand for ipc.Request and ipc.Error.
type request struct{ Route, Peer string }

type callError struct{ Code, Message string }

func (e *callError) Error() string { return e.Code + ": " + e.Message }

type greeter struct{}

func (greeter) ServeIPC(ctx context.Context, req *request) (any, error) {
	return map[string]string{"hello": req.Peer}, nil
}

type panicker struct{}

func (panicker) ServeIPC(context.Context, *request) (any, error) { panic("boom") }

func ExampleServe() {
	req := request{Route: "greet", Peer: "dashboard"}
	ctx := transport.NewContext(req, time.Now().Add(time.Second), nil)
	defer ctx.Cancel()
	r := ctx.Request()
	data, err := transport.Serve[request, callError](ctx, greeter{}, r, r.Route, r.Peer, nil, nil, nil)
	fmt.Println(string(data), err)
	_, err = transport.Serve[request, callError](ctx, panicker{}, r, r.Route, r.Peer, nil, nil, nil)
	fmt.Println(err)
	// Output:
	// {"hello":"dashboard"} <nil>
	// handler_error: handler for "greet" panicked
}
