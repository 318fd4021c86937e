// Command ipccompare is the headline IPC benchmark: `ipcord bench` against
// `ipcord serve` beside a bare coder/websocket echo (wsecho), each as two
// processes on loopback, alternated for several rounds in one run so both
// see the same machine. It prints a Markdown table of medians and ratios.
//
//	cd bench && go run ./cmd/ipccompare -rounds 3 -n 20000
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

type report struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
}

func main() {
	rounds := flag.Int("rounds", 3, "alternations of the two contenders")
	n := flag.Int("n", 20000, "calls per measurement")
	flag.Parse()
	if err := run(*rounds, *n); err != nil {
		fmt.Fprintln(os.Stderr, "ipccompare:", err)
		os.Exit(1)
	}
}

func run(rounds, n int) error {
	dir, err := os.MkdirTemp("", "ipccompare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ipcord, wsecho := filepath.Join(dir, "ipcord"), filepath.Join(dir, "wsecho")
	// ipcord builds from the repository root (this module's parent), so the
	// figures are of the working tree, not of a published version.
	for _, build := range map[string][]string{
		ipcord: {"build", "-C", "..", "-o", ipcord, "./cmd/ipcord"},
		wsecho: {"build", "-o", wsecho, "./cmd/wsecho"},
	} {
		if out, err := exec.Command("go", build...).CombinedOutput(); err != nil {
			pkg := build[len(build)-1]
			return fmt.Errorf("building %s: %v\n%s", pkg, err, out)
		}
	}
	type key struct {
		who  string
		conc int
	}
	results := map[key][]report{}
	for round := range rounds {
		for _, who := range []string{"ipcord", "wsecho"} {
			var server, client []string
			if who == "ipcord" {
				server = []string{ipcord, "serve", "--addr", "127.0.0.1:0", "--secret", "bench"}
				client = []string{ipcord, "bench", "--secret", "bench", "--route", "ping"}
			} else {
				server = []string{wsecho, "serve", "--addr", "127.0.0.1:0"}
				client = []string{wsecho, "bench"}
			}
			for _, conc := range []int{1, 32} {
				r, err := measure(server, client, n, conc)
				if err != nil {
					return fmt.Errorf("round %d, %s, %d in flight: %w", round+1, who, conc, err)
				}
				fmt.Fprintf(os.Stderr, "round %d %-7s %2d in flight: %8.0f calls/s  p50 %6.1f µs  p99 %7.1f µs\n", round+1, who, conc, r.RPS, r.P50us, r.P99us)
				results[key{who, conc}] = append(results[key{who, conc}], r)
			}
		}
	}
	med := func(k key, f func(report) float64) float64 {
		var v []float64
		for _, r := range results[k] {
			v = append(v, f(r))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rps := func(r report) float64 { return r.RPS }
	p50 := func(r report) float64 { return r.P50us }
	p99 := func(r report) float64 { return r.P99us }
	fmt.Printf("| in flight | contender | calls/s | p50 µs | p99 µs |\n|---|---|---|---|---|\n")
	for _, conc := range []int{1, 32} {
		for _, who := range []string{"ipcord", "wsecho"} {
			k := key{who, conc}
			fmt.Printf("| %d | %s | %.0f | %.1f | %.1f |\n", conc, who, med(k, rps), med(k, p50), med(k, p99))
		}
	}
	fmt.Printf("\nMedians of %d alternated rounds, %d calls each. Ratios ipcord ÷ echo:\n", rounds, n)
	for _, conc := range []int{1, 32} {
		i, e := key{"ipcord", conc}, key{"wsecho", conc}
		fmt.Printf("- %2d in flight: throughput %.2f×, p50 latency %.2f×\n", conc, med(i, rps)/med(e, rps), med(i, p50)/med(e, p50))
	}
	return nil
}

var wsURL = regexp.MustCompile(`ws://[0-9.]+:[0-9]+`)

// measure starts a server process, runs one client process against it,
// and stops the server by its PID.
func measure(server, client []string, n, conc int) (report, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, server[0], server[1:]...)
	out, err := srv.StdoutPipe()
	if err != nil {
		return report{}, err
	}
	if err := srv.Start(); err != nil {
		return report{}, err
	}
	defer func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return report{}, fmt.Errorf("server printed no address: %w", err)
	}
	url := wsURL.FindString(line)
	if url == "" {
		return report{}, fmt.Errorf("no URL in %q", line)
	}
	args := append(slices.Clone(client[1:]), "--url", url, "--n", strconv.Itoa(n), "--concurrency", strconv.Itoa(conc), "--json")
	b, err := exec.CommandContext(ctx, client[0], args...).Output()
	if err != nil {
		return report{}, fmt.Errorf("%v: %s", err, b)
	}
	var r report
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(b))), &r); err != nil {
		return report{}, err
	}
	if r.Errors > 0 || r.Requests != n {
		return r, fmt.Errorf("%d errors, %d of %d requests", r.Errors, r.Requests, n)
	}
	return r, nil
}
