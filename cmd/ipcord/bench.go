package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
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
	Requests int            `json:"requests"` // calls made (answered or failed)
	Errors   int            `json:"errors"`
	ByCode   map[string]int `json:"errors_by_code"` // {} when none failed
	RPS      float64        `json:"rps"`
	P50us    float64        `json:"p50_us"`
	P99us    float64        `json:"p99_us"`
	// CutShort is why calls remained undone: "max-duration" or
	// "interrupted"; empty when all --n calls were made.
	CutShort string `json:"cut_short"`
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench", "[--url URL | --discover HOST:PORT] --secret S [--route ping] [--args JSON] [--n 20000] [--concurrency 32] [--conns 1] [--interval D] [--max-duration 1m] [--busy-poll D] [--json]")
	fs.About(`Calls ROUTE --n times, --concurrency at once over --conns connections, and
reports calls/s and the latency's median and 99th percentile. On a terminal it
shows progress on stderr. It exits 1 when any call failed (the report counts
them by error code) or when --max-duration (or Ctrl-C) stopped it before --n
calls. --interval paces each of the --concurrency callers: it waits that long
after each call, for measuring what a steady trickle of calls costs.`)
	cf := addClientFlags(fs)
	route := fs.String("route", "ping", "route to call")
	argsJSON := fs.String("args", `{"n":1}`, "arguments of every call, as JSON")
	n := fs.Int("n", 20000, "number of calls (at most 10,000,000)")
	conc := fs.Int("concurrency", 32, "calls in flight at once")
	conns := fs.Int("conns", 1, "connections the calls are spread over")
	maxDur := fs.Duration("max-duration", time.Minute, "stop after this long even if calls remain")
	interval := fs.Duration("interval", 0, "pause of each caller after each call")
	busyPoll := fs.Duration("busy-poll", 0, busyPollUsage)
	asJSON := fs.Bool("json", false, "print one JSON object instead of text")
	pos, err := fs.Parse(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fs.Fail("unexpected argument %q (the route is --route)", pos[0])
	case *n < 1 || *n > 10_000_000:
		return fs.Fail("--n %d: want 1 to 10,000,000 calls", *n)
	case *conc < 1:
		return fs.Fail("--concurrency %d: want at least 1", *conc)
	case *conns < 1:
		return fs.Fail("--conns %d: want at least 1", *conns)
	case *interval < 0:
		return fs.Fail("--interval %v: want 0 or more", *interval)
	case *maxDur <= 0:
		return fs.Fail("--max-duration %v: want a positive duration", *maxDur)
	case !json.Valid([]byte(*argsJSON)):
		return fs.Fail("--args is not valid JSON")
	}
	clients := make([]*ipc.Client, *conns)
	for i := range clients {
		c, err := cf.dial(ctx, e, fmt.Sprintf("ipcord-bench-%d-%d", time.Now().UnixNano(), i), func(c *ipc.ClientConfig) { c.BusyPoll = *busyPoll })
		if err != nil {
			return reportCallError(err)
		}
		defer c.Close()
		clients[i] = c
	}
	b := &benchRun{n: *n, route: *route, args: json.RawMessage(*argsJSON), timeout: *cf.timeout, interval: *interval}
	var stopProgress func()
	if isTerminal(e.stderr) {
		stopProgress = b.showProgress(e.stderr, 250*time.Millisecond)
	}
	r, elapsed := b.run(ctx, clients, *conc, *maxDur)
	if stopProgress != nil {
		stopProgress()
	}
	if *asJSON {
		if err := json.NewEncoder(e.stdout).Encode(r); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%d calls in %v over %d connection(s), %d in flight: %.0f calls/s, p50 %s, p99 %s\n",
			r.Requests, elapsed.Round(time.Millisecond), *conns, *conc, r.RPS, microseconds(r.P50us), microseconds(r.P99us))
		if r.Errors > 0 {
			fmt.Fprintf(e.stdout, "errors: %d (%s)\n", r.Errors, codeCounts(r.ByCode))
		}
	}
	var problems []string
	if r.Errors > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d calls failed", r.Errors, r.Requests))
	}
	switch r.CutShort {
	case "max-duration":
		problems = append(problems, fmt.Sprintf("--max-duration %v cut the run short: %d of %d calls made", *maxDur, r.Requests, *n))
	case "interrupted":
		problems = append(problems, fmt.Sprintf("interrupted: %d of %d calls made", r.Requests, *n))
	}
	if problems != nil {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// benchRun is one load run: workers take call numbers from next until n.
type benchRun struct {
	n        int
	route    string
	args     json.RawMessage
	timeout  time.Duration
	interval time.Duration // each worker's pause after each call

	next, made, failed atomic.Int64
}

// run makes the calls and returns the report and the time they took.
func (b *benchRun) run(ctx context.Context, clients []*ipc.Client, conc int, maxDur time.Duration) (benchReport, time.Duration) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, maxDur)
	defer cancel()
	end, _ := ctx.Deadline()
	lat := make([][]time.Duration, conc)
	codes := make([]map[string]int, conc)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		c := clients[w%len(clients)]
		codes[w] = map[string]int{}
		wg.Go(func() {
			for b.next.Add(1) <= int64(b.n) && ctx.Err() == nil {
				cctx, ccancel := context.WithTimeout(ctx, b.timeout)
				callEnd, _ := cctx.Deadline()
				t0 := time.Now()
				err := c.Call(cctx, b.route, b.args, nil)
				took := time.Since(t0)
				ccancel()
				if err != nil && (ctx.Err() != nil || callEnd.Equal(end) && errors.Is(err, context.DeadlineExceeded)) {
					// Cut off by the run's end, not failed: not counted. (The
					// server may time the call out a little before ctx's own
					// timer fires, when the run's end was its deadline.)
					return
				}
				b.made.Add(1)
				lat[w] = append(lat[w], took)
				if err != nil {
					b.failed.Add(1)
					codes[w][errorCode(err)]++
				}
				if b.interval > 0 {
					select {
					case <-time.After(b.interval):
					case <-ctx.Done():
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	r := benchReport{
		Requests: len(all),
		Errors:   int(b.failed.Load()),
		ByCode:   map[string]int{},
		RPS:      float64(len(all)) / elapsed.Seconds(),
		P50us:    percentile(all, 0.50),
		P99us:    percentile(all, 0.99),
	}
	for _, m := range codes {
		for k, v := range m {
			r.ByCode[k] += v
		}
	}
	if r.Requests < b.n {
		r.CutShort = "max-duration"
		if parent.Err() != nil {
			r.CutShort = "interrupted"
		}
	}
	return r, elapsed
}

// showProgress rewrites one line on w every interval until stop is called,
// which clears it.
func (b *benchRun) showProgress(w io.Writer, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				made := b.made.Load()
				fmt.Fprintf(w, "\r\033[K%d/%d calls, %d failed, %.0f calls/s", made, b.n, b.failed.Load(), float64(made)/time.Since(start).Seconds())
			}
		}
	}()
	return func() { close(done); <-finished }
}

// errorCode names what made a call fail: its ipc code, or the transport's
// failure.
func errorCode(err error) string {
	var ie *ipc.Error
	switch {
	case errors.As(err, &ie):
		return ie.Code
	case errors.Is(err, ipc.ErrConnectionLost):
		return "connection_lost"
	case errors.Is(err, ipc.ErrNotConnected):
		return "not_connected"
	case errors.Is(err, ipc.ErrClosed):
		return "closed"
	case errors.Is(err, context.DeadlineExceeded):
		return ipc.CodeTimeout
	default:
		return "other"
	}
}

// codeCounts is "timeout 3, handler_error 1": most frequent first.
func codeCounts(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return m[b] - m[a] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// percentile returns the p-th latency of sorted in microseconds.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(int(float64(len(sorted))*p), len(sorted)-1)
	return float64(sorted[i].Nanoseconds()) / 1e3
}

// microseconds writes a latency in the unit that reads best, with three
// significant digits: 812 ns, 41.6 µs, 1.23 ms, 2.50 s.
func microseconds(us float64) string {
	switch v := us * 1e3; {
	case v < 1e3:
		return fmt.Sprintf("%.0f ns", v)
	case v < 1e6:
		return sig3(v/1e3) + " µs"
	case v < 1e9:
		return sig3(v/1e6) + " ms"
	default:
		return sig3(v/1e9) + " s"
	}
}

func sig3(x float64) string {
	switch {
	case x >= 99.95:
		return fmt.Sprintf("%.0f", x)
	case x >= 9.995:
		return fmt.Sprintf("%.1f", x)
	default:
		return fmt.Sprintf("%.2f", x)
	}
}

// isTerminal reports whether w is a terminal, where progress is shown.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
