package ipc_test

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/ipcord/ipcord/ipc"
)

func ExampleParseDialect() {
	d, err := ipc.ParseDialect("zonis")
	fmt.Println(d, err)
	_, err = ipc.ParseDialect("grpc")
	fmt.Println(errors.Is(err, ipc.ErrUnknownDialect))
	// Output:
	// zonis <nil>
	// true
}

// A route written once is served to every dialect on the same listener;
// here a Go client speaks ext-ipc, as a Python dashboard would.
func ExampleClientConfig_dialect() {
	r := ipc.NewRouter()
	r.Handle("guild_count", ipc.Func(func(ctx context.Context, _ struct{}) (int, error) {
		return 42, nil
	}))
	srv := &ipc.Server{Router: r, Secret: "s3cret"}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: "ws://" + ln.Addr().String(), Secret: "s3cret", Dialect: ipc.ExtIPC})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	n, err := ipc.CallAs[int](ctx, c, "/guild_count", nil)
	fmt.Println(n, err)
	err = c.Call(ctx, "missing", nil, nil)
	fmt.Println(errors.Is(err, ipc.ErrUnknownRoute))
	// Output:
	// 42 <nil>
	// true
}
