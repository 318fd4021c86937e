package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipcord/ipcord/ipc"
)

func init() {
	register(&command{name: "bench", summary: "run a bounded load against an IPC server", run: runBench})
}

// benchReport is what `ipcord bench --json` prints: exactly one object.
type benchReport struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "[--url URL] --secret S [--route ping] [--n 20000] [--concurrency 32] [--conns 1] [--json]")
	cf := addClientFlags(fs)
	route := fs.String("route", "ping", "route to call")
	argsJSON := fs.String("args", `{"n":1}`, "arguments of every call, as JSON")
	n := fs.Int("n", 20000, "number of calls (at most 10,000,000)")
	conc := fs.Int("concurrency", 32, "calls in flight at once")
	conns := fs.Int("conns", 1, "connections the calls are spread over")
	maxDur := fs.Duration("max-duration", time.Minute, "stop after this long even if calls remain")
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 1 || *n > 10_000_000 || *conc < 1 || *conns < 1 || !json.Valid([]byte(*argsJSON)) {
		fs.Usage()
		return errUsage
	}
	clients := make([]*ipc.Client, *conns)
	for i := range clients {
		c, err := cf.dial(ctx, e, fmt.Sprintf("ipcord-bench-%d-%d", time.Now().UnixNano(), i))
		if err != nil {
			return reportCallError(e, err)
		}
		defer c.Close()
		clients[i] = c
	}
	ctx, cancel := context.WithTimeout(ctx, *maxDur)
	defer cancel()

	lat := make([]time.Duration, *n)
	var next, errs atomic.Int64
	var done atomic.Int64
	payload := json.RawMessage(*argsJSON)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range *conc {
		c := clients[w%len(clients)]
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(*n) || ctx.Err() != nil {
					return
				}
				cctx, ccancel := context.WithTimeout(ctx, *cf.timeout)
				t0 := time.Now()
				err := c.Call(cctx, *route, payload, nil)
				lat[i] = time.Since(t0)
				ccancel()
				done.Add(1)
				if err != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	got := lat[:min(int(done.Load()), len(lat))]
	slices.Sort(got)
	r := benchReport{
		Requests: len(got),
		Errors:   int(errs.Load()),
		RPS:      float64(len(got)) / elapsed.Seconds(),
		P50us:    percentile(got, 0.50),
		P99us:    percentile(got, 0.99),
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(r)
	}
	fmt.Fprintf(e.stdout, "%d calls (%d errors) in %v over %d connection(s), %d in flight: %.0f calls/s, p50 %.1f µs, p99 %.1f µs\n",
		r.Requests, r.Errors, elapsed.Round(time.Millisecond), *conns, *conc, r.RPS, r.P50us, r.P99us)
	return nil
}

// percentile returns the p-th latency of sorted in microseconds.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(float64(len(sorted))*p), len(sorted)-1)
	return float64(sorted[i].Nanoseconds()) / 1e3
}
