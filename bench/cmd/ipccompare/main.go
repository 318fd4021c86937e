package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 5, "alternations of the contenders")
	n := flag.Int("n", 20000, "calls per measurement")
	concs := flag.String("conc", "1,32", "calls in flight, comma-separated")
	places := flag.String("placement", "unpinned,same,split", "thread placements, comma-separated: unpinned, same, split")
	base := flag.String("base", "", "also measure ipcord built at this git revision")
	interval := flag.Duration("interval", 0, "each client of the working tree and the echo pauses this long after each call (a steady trickle instead of a flood; not passed to -base and -bin builds)")
	noPoll := flag.Bool("busy-poll-off", false, "also measure ipcord with --busy-poll -1s on both sides")
	var bins []string
	flag.Func("bin", "also measure this ipcord binary, as NAME=PATH (repeatable)", func(s string) error {
		if name, path, ok := strings.Cut(s, "="); !ok || name == "" || path == "" {
			return fmt.Errorf("want NAME=PATH")
		}
		bins = append(bins, s)
		return nil
	})
	flag.Parse()
	cfg := config{rounds: *rounds, n: *n, base: *base, bins: bins, interval: *interval, noPoll: *noPoll}
	for _, s := range strings.Split(*concs, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || c < 1 {
			fmt.Fprintf(os.Stderr, "ipccompare: -conc: %q is not a positive number\n", s)
			os.Exit(2)
		}
		cfg.concs = append(cfg.concs, c)
	}
	for _, s := range strings.Split(*places, ",") {
		p, ok := placements[strings.TrimSpace(s)]
		if !ok {
			fmt.Fprintf(os.Stderr, "ipccompare: -placement: %q is not one of unpinned, same, split\n", s)
			os.Exit(2)
		}
		cfg.places = append(cfg.places, p)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ipccompare:", err)
		os.Exit(1)
	}
}

type config struct {
	rounds, n int
	concs     []int
	places    []placement
	base      string
	bins      []string // NAME=PATH
	interval  time.Duration
	noPoll    bool
}

// placement is where the two processes of one measurement may run: the
// taskset CPU lists of server and client ("" for anywhere).
type placement struct {
	name           string
	server, client string
}

var placements = map[string]placement{
	"unpinned": {name: "unpinned"},
	"same":     {name: "same CPU", server: "0", client: "0"},
	"split":    {name: "split CPUs", server: "0", client: "1"},
}

// contender is one implementation measured: how to start its server and
// its client.
type contender struct {
	name           string
	server, client []string
}

func run(cfg config) error {
	dir, err := os.MkdirTemp("", "ipccompare")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ipcord, wsecho := filepath.Join(dir, "ipcord"), filepath.Join(dir, "wsecho")
	// ipcord builds from the repository root (this module's parent), so the
	// figures are of the working tree, not of a published version.
	if err := gobuild("..", ipcord, "./cmd/ipcord"); err != nil {
		return err
	}
	if err := gobuild(".", wsecho, "./cmd/wsecho"); err != nil {
		return err
	}
	contenders := []contender{ipcordContender("ipcord", ipcord), {
		name:   "wsecho",
		server: []string{wsecho, "serve", "--addr", "127.0.0.1:0"},
		client: []string{wsecho, "bench"},
	}}
	if cfg.noPoll {
		c := ipcordContender("ipcord-nopoll", ipcord)
		c.server = append(c.server, "--busy-poll", "-1s")
		c.client = append(c.client, "--busy-poll", "-1s")
		contenders = append(contenders, c)
	}
	if cfg.interval > 0 {
		for i := range contenders {
			contenders[i].client = append(contenders[i].client, "--interval", cfg.interval.String())
		}
	}
	if cfg.base != "" {
		bin, err := buildAt(dir, cfg.base)
		if err != nil {
			return err
		}
		contenders = append(contenders, ipcordContender("ipcord@"+cfg.base, bin))
	}
	for _, b := range cfg.bins {
		name, path, _ := strings.Cut(b, "=")
		contenders = append(contenders, ipcordContender(name, path))
	}

	res := results{}
	for round := range cfg.rounds {
		for _, p := range cfg.places {
			// Rotate the order every round, so no contender always runs
			// first after a change of placement.
			for i := range contenders {
				c := contenders[(i+round)%len(contenders)]
				for _, conc := range cfg.concs {
					m, err := measure(c, p, cfg.n, conc)
					if err != nil {
						return fmt.Errorf("round %d, %s, %s, %d in flight: %w", round+1, p.name, c.name, conc, err)
					}
					fmt.Fprintf(os.Stderr, "round %d %-10s %-14s %2d in flight: %8.0f calls/s  p50 %6.1f µs  p99 %7.1f µs  per call: server %5.1f µs CPU %4.2f switches, client %5.1f µs CPU %4.2f switches\n",
						round+1, p.name, c.name, conc, m.RPS, m.P50us, m.P99us, m.serverCPUus, m.serverCS, m.clientCPUus, m.clientCS)
					k := key{p.name, c.name, conc}
					res[k] = append(res[k], m)
				}
			}
		}
	}
	res.print(os.Stdout, cfg, contenders)
	return nil
}

func ipcordContender(name, bin string) contender {
	return contender{
		name:   name,
		server: []string{bin, "serve", "--addr", "127.0.0.1:0", "--secret", "bench"},
		client: []string{bin, "bench", "--secret", "bench", "--route", "ping"},
	}
}

func gobuild(dir, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s in %s: %v\n%s", pkg, dir, err, b)
	}
	return nil
}

// buildAt builds cmd/ipcord from the repository at rev, extracted with
// git archive into dir.
func buildAt(dir, rev string) (string, error) {
	src := filepath.Join(dir, "base-src")
	if err := os.Mkdir(src, 0o755); err != nil {
		return "", err
	}
	x := exec.Command("bash", "-c", `set -o pipefail; git archive "$1" | tar -x -C "$2"`, "extract", rev, src)
	x.Dir = ".."
	if b, err := x.CombinedOutput(); err != nil {
		return "", fmt.Errorf("git archive %s: %v\n%s", rev, err, b)
	}
	bin := filepath.Join(dir, "ipcord-base")
	return bin, gobuild(src, bin, "./cmd/ipcord")
}
