package ipc_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/ipcord/ipcord/ipc"
)

type Stats struct {
	Guilds  int `json:"guilds"`
	Members int `json:"members"`
}

// serve starts srv on a free loopback port and returns its ws:// URL.
func serve(srv *ipc.Server) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go srv.Serve(ln)
	return "ws://" + ln.Addr().String()
}

func shutdown(srv *ipc.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// A bot serves a typed route; a dashboard calls it.
func Example() {
	r := ipc.NewRouter()
	r.Handle("stats", ipc.Func(func(ctx context.Context, _ struct{}) (Stats, error) {
		return Stats{Guilds: 12, Members: 3400}, nil
	}))
	srv := &ipc.Server{Router: r, Secret: "s3cret"}
	url := serve(srv)
	defer shutdown(srv)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: url, Secret: "s3cret", Identifier: "dashboard"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	stats, err := ipc.CallAs[Stats](ctx, c, "stats", nil)
	fmt.Println(stats.Guilds, stats.Members, err)
	// Output: 12 3400 <nil>
}

// Func decodes the call's args into a struct; args that don't fit fail the
// call with bad_request before the function runs.
func ExampleFunc() {
	type args struct {
		GuildID string `json:"guild_id"`
	}
	h := ipc.Func(func(ctx context.Context, a args) (string, error) {
		if a.GuildID == "" {
			return "", &ipc.Error{Code: "guild_not_found", Message: "no guild_id"}
		}
		return "guild " + a.GuildID, nil
	})
	out, err := h.ServeIPC(context.Background(), &ipc.Request{Route: "guild", Args: []byte(`{"guild_id":"42"}`)})
	fmt.Println(out, err)
	_, err = h.ServeIPC(context.Background(), &ipc.Request{Route: "guild", Args: []byte(`{"guild_id":42}`)})
	fmt.Println(err)
	// Output:
	// guild 42 <nil>
	// ipc: bad_request: route "guild": args do not fit: json: cannot unmarshal number into Go struct field args.guild_id of type string
}

// A client serves routes of its own; the server calls them by the client's
// identifier, and Broadcast calls every connected client at once.
func ExampleServer_Broadcast() {
	srv := &ipc.Server{Secret: "s3cret"}
	url := serve(srv)
	defer shutdown(srv)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, cluster := range []string{"cluster-0", "cluster-1"} {
		r := ipc.NewRouter()
		r.Handle("guild_count", ipc.Func(func(ctx context.Context, _ struct{}) (int, error) {
			return len(cluster) * 10, nil
		}))
		c, err := ipc.Dial(ctx, ipc.ClientConfig{URL: url, Secret: "s3cret", Identifier: cluster, Router: r})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer c.Close()
	}

	for _, res := range srv.Broadcast(ctx, "guild_count", nil) {
		fmt.Println(res.Client, string(res.Data), res.Err)
	}
	// Output:
	// cluster-0 90 <nil>
	// cluster-1 90 <nil>
}

// Methods turns a struct's methods into routes named in snake_case, like the
// Python libraries' cog routes.
func ExampleMethods() {
	routes, err := ipc.Methods(&statsCog{})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := ipc.NewRouter()
	fmt.Println(r.HandleAll(routes), r.Routes())
	// Output: <nil> [guild_count member_count]
}

type statsCog struct{}

func (statsCog) GuildCount(ctx context.Context, _ struct{}) (int, error)  { return 12, nil }
func (statsCog) MemberCount(ctx context.Context, _ struct{}) (int, error) { return 3400, nil }
