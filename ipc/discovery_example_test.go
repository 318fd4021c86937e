package ipc_test

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/ipcord/ipcord/ipc"
)

func ExampleDiscovery() {
	ctx := context.Background()
	srv := &ipc.Server{Name: "cluster-0", Secret: "s3cret"}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)

	// The discovery listener of this process lists its servers.
	d := &ipc.Discovery{Secret: "s3cret"}
	d.AddURL(srv, "ws://"+ln.Addr().String()) // or Add(srv): the URL Serve listens on
	dln, _ := net.Listen("tcp", "127.0.0.1:0")
	go d.Serve(dln)
	defer d.Shutdown(ctx)

	// A dashboard finds the server, then dials it.
	list, err := ipc.Discover(ctx, ipc.DiscoverConfig{Addr: dln.Addr().String(), Secret: "s3cret"})
	if err != nil {
		fmt.Println(err)
		return
	}
	info, err := ipc.PickServer(list, "")
	fmt.Println(info.Name, strings.HasPrefix(info.URL, "ws://127.0.0.1:"), err)
	// Output: cluster-0 true <nil>
}
