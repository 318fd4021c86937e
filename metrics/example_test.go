package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ipcord/ipcord/ipc"
	"github.com/ipcord/ipcord/metrics"
)

// A bot's IPC server with its metrics and health on a separate listener,
// the way an operator scrapes them.
func Example() {
	rec, err := metrics.New(metrics.Config{})
	if err != nil {
		panic(err)
	}
	r := ipc.NewRouter()
	r.Handle("ping", ipc.Func(func(ctx context.Context, _ struct{}) (string, error) { return "pong", nil }))
	srv := &ipc.Server{Router: r, Secret: "s3cret", Name: "bot"}
	if err := rec.IPCServer(srv); err != nil { // before srv serves
		panic(err)
	}
	ipcLn, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ipcLn)
	defer srv.Shutdown(context.Background())

	ops := http.NewServeMux()
	ops.Handle("GET /metrics", rec.Handler())
	ops.Handle("GET /healthz", &metrics.Health{})
	opsLn, _ := net.Listen("tcp", "127.0.0.1:0")
	opsSrv := &http.Server{Handler: ops}
	go opsSrv.Serve(opsLn)
	defer opsSrv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: "ws://" + ipcLn.Addr().String(), Secret: "s3cret"})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	for range 2 {
		c.Call(ctx, "ping", nil, nil)
	}
	c.Call(ctx, "pong", nil, nil) // no such route

	resp, err := http.Get("http://" + opsLn.Addr().String() + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "ipcord_ipc_calls_total") || strings.HasPrefix(line, "ipcord_ipc_errors_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// ipcord_ipc_calls_total{route="(unknown)",server="bot"} 1
	// ipcord_ipc_calls_total{route="ping",server="bot"} 2
	// ipcord_ipc_errors_total{code="unknown_route",route="(unknown)",server="bot"} 1
}
