package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/ipcord/ipcord/bench/internal/spread"
)

// result is what a child reports: per-shard costs and how long the shards
// took to get READY.
type result struct {
	Lib, Mode     string
	HeapPerShard  float64 // bytes of Go heap in use
	RSSPerShard   float64 // bytes resident
	GoroutinesPer float64
	ReadyMS       float64
	Err           string `json:",omitempty"`
}

// contender is one library in one mode.
type contender struct{ lib, mode string }

var contenders = []contender{
	{"ipcord", "none"}, {"disgo", "none"}, {"discordgo", "none"},
	{"ipcord", "zlib-stream"}, {"ipcord", "zstd-stream"}, {"ipcord", "zstd-stream-klauspost"},
}

func main() {
	child := flag.Bool("child", false, "run one measurement (used by the parent)")
	lib := flag.String("lib", "ipcord", "child: ipcord, disgo or discordgo")
	mode := flag.String("mode", "none", "child: none, zlib-stream, zstd-stream or zstd-stream-klauspost (gateway.Config.ZstdFastDecoder)")
	url := flag.String("url", "", "child: the fake gateway's URL")
	api := flag.String("api", "", "child: the fake's Get Gateway endpoint (discordgo)")
	n := flag.Int("n", 1000, "shards")
	rounds := flag.Int("rounds", 5, "alternated rounds")
	idle := flag.Duration("idle", 4*time.Second, "how long the shards sit idle before the measurement")
	only := flag.String("only", "", "comma-separated lib/mode contenders to run (default all)")
	flag.Parse()
	if *child {
		r := measure(*lib, *mode, *url, *api, *n, *idle)
		json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	cs := contenders
	if *only != "" {
		cs = nil
		for _, c := range strings.Split(*only, ",") {
			lib, mode, _ := strings.Cut(c, "/")
			cs = append(cs, contender{lib, mode})
		}
	}
	if err := run(cs, *n, *rounds, *idle); err != nil {
		fmt.Fprintln(os.Stderr, "shardmem:", err)
		os.Exit(1)
	}
}

// run alternates the contenders over rounds, starting each round one
// further along the list, and prints the table.
func run(cs []contender, n, rounds int, idle time.Duration) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	got := map[contender][]result{}
	for r := range rounds {
		for i := range cs {
			c := cs[(r+i)%len(cs)]
			res, err := runChild(exe, c, n, idle)
			if err != nil {
				return fmt.Errorf("round %d, %s %s: %w", r+1, c.lib, c.mode, err)
			}
			fmt.Fprintf(os.Stderr, "round %d %-9s %-11s heap %6.1f KiB/shard  RSS %6.1f KiB/shard  %.2f goroutines/shard  READY in %.0f ms\n",
				r+1, c.lib, c.mode, res.HeapPerShard/1024, res.RSSPerShard/1024, res.GoroutinesPer, res.ReadyMS)
			got[c] = append(got[c], res)
		}
	}
	fmt.Printf("%d shards READY then idle, %d alternated rounds: median (min–max)\n\n", n, rounds)
	fmt.Println("| library | compression | heap per shard | RSS per shard | goroutines per shard | all READY in |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	for _, c := range cs {
		rs := got[c]
		pick := func(f func(result) float64) []float64 {
			var v []float64
			for _, r := range rs {
				v = append(v, f(r))
			}
			return v
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s |\n", c.lib, c.mode,
			spread.Of(pick(func(r result) float64 { return r.HeapPerShard })).Scale(1024).Format(1, " KiB"),
			spread.Of(pick(func(r result) float64 { return r.RSSPerShard })).Scale(1024).Format(1, " KiB"),
			spread.Of(pick(func(r result) float64 { return r.GoroutinesPer })).Format(1, ""),
			spread.Of(pick(func(r result) float64 { return r.ReadyMS / 1000 })).Format(1, " s"))
	}
	return nil
}

// runChild measures c in a child process against a fresh fake.
func runChild(exe string, c contender, n int, idle time.Duration) (result, error) {
	f, err := startFake(n)
	if err != nil {
		return result{}, err
	}
	defer f.close()
	cmd := exec.Command(exe, "-child", "-lib", c.lib, "-mode", c.mode, "-url", f.url, "-api", f.api,
		"-n", fmt.Sprint(n), "-idle", idle.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var r result
	if err := json.Unmarshal(out, &r); err != nil {
		return r, fmt.Errorf("child said %q: %w", out, err)
	}
	if r.Err != "" {
		return r, fmt.Errorf("child: %s", r.Err)
	}
	return r, nil
}
