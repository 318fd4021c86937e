package ipc_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ipcord/ipcord/ipc"
)

// A client that gives up after three failed reconnection attempts: a
// supervisor waits on Done and reads Err to learn why it ended.
func ExampleClient_Done() {
	srv := &ipc.Server{Router: ipc.NewRouter(), Secret: "s3cret"}
	url := serve(srv)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ipc.Dial(ctx, ipc.ClientConfig{
		URL: url, Secret: "s3cret",
		MaxReconnects: 3, MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println(c.State())

	shutdown(srv) // the server goes away for good
	<-c.Done()
	fmt.Println(c.State(), errors.Is(c.Err(), ipc.ErrGaveUp))
	// Output:
	// connected
	// closed true
}

// Python's json writes float('nan') as NaN: Decode (like Func) puts it in
// a float, and refuses it where the type cannot hold one.
func ExampleRequest_Decode() {
	req := &ipc.Request{Route: "ratio", Args: []byte(`{"ratio": NaN, "shards": Infinity}`)}
	var good struct {
		Ratio  float64
		Shards any
	}
	fmt.Println(req.Decode(&good), good.Ratio, good.Shards)
	var bad struct{ Shards int }
	fmt.Println(errors.Is(req.Decode(&bad), ipc.ErrBadRequest))
	// Output:
	// <nil> NaN +Inf
	// true
}
