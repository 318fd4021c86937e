package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: wsecho serve|bench [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:])
	case "bench":
		err = bench(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wsecho:", err)
		os.Exit(1)
	}
}

func serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	fs.Parse(args)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("wsecho: serving on ws://%s\n", ln.Addr())
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	})}
	go func() { <-ctx.Done(); hs.Close() }()
	if err := hs.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

type report struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
}

func bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	url := fs.String("url", "", "server URL")
	n := fs.Int("n", 20000, "messages")
	conc := fs.Int("concurrency", 32, "messages in flight")
	msg := fs.String("msg", `{"t":"req","id":1,"route":"ping","args":{"n":1},"timeout_ms":5000}`, "message to echo")
	asJSON := fs.Bool("json", false, "print one JSON object")
	interval := fs.Duration("interval", 0, "pause before each message after the first, once its slot is won")
	fs.Parse(args)
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	c, _, err := websocket.Dial(ctx, *url, nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)

	// slots bounds the messages in flight; each stamp is taken just before
	// its write, after the slot is won, so waiting for a slot is not
	// counted as latency.
	slots := make(chan struct{}, *conc)
	stamps := make(chan time.Time, *conc)
	lat := make([]time.Duration, 0, *n)
	payload := []byte(*msg)
	werr := make(chan error, 1)
	start := time.Now()
	go func() {
		for i := range *n {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				werr <- ctx.Err()
				return
			}
			if i > 0 && *interval > 0 {
				time.Sleep(*interval)
			}
			stamps <- time.Now()
			if err := c.Write(ctx, websocket.MessageText, payload); err != nil {
				werr <- err
				return
			}
		}
		werr <- nil
	}()
	errs := 0
	for range *n {
		if _, _, err := c.Read(ctx); err != nil {
			errs++
			break
		}
		lat = append(lat, time.Since(<-stamps))
		<-slots
	}
	elapsed := time.Since(start)
	if err := <-werr; err != nil {
		return err
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(int(float64(len(lat))*p), len(lat)-1)].Nanoseconds()) / 1e3
	}
	r := report{Requests: len(lat), Errors: errs, RPS: float64(len(lat)) / elapsed.Seconds(), P50us: pct(0.5), P99us: pct(0.99)}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	fmt.Printf("%d messages, %.0f msg/s, p50 %.1f µs, p99 %.1f µs\n", r.Requests, r.RPS, r.P50us, r.P99us)
	return nil
}
