package ipc_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/ipcord/ipcord/ipc"
)

func ExampleCompression() {
	ctx := context.Background()
	r := ipc.NewRouter()
	r.HandleFunc("report", func(ctx context.Context, req *ipc.Request) (any, error) {
		return strings.Repeat("all shards healthy. ", 1000), nil // 20 KB: sent compressed
	})
	// Both ends must enable compression; either alone talks uncompressed.
	srv := &ipc.Server{Router: r, Secret: "s3cret", Compression: ipc.Compression{Enabled: true}}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)

	c, err := ipc.Dial(ctx, ipc.ClientConfig{
		URL:         "ws://" + ln.Addr().String(),
		Secret:      "s3cret",
		Compression: ipc.Compression{Enabled: true, MinSize: 4096},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	var report string
	err = c.Call(ctx, "report", nil, &report)
	fmt.Println(len(report), err)
	// Output: 20000 <nil>
}
