package main

import (
	"fmt"
	"io"

	"github.com/ipcord/ipcord/bench/internal/spread"
)

type key struct {
	place, who string
	conc       int
}

// results holds every round's measurement, in round order.
type results map[key][]measurement

func (r results) each(k key, f func(measurement) float64) []float64 {
	var v []float64
	for _, m := range r[k] {
		v = append(v, f(m))
	}
	return v
}

// ratios are round-by-round ratios of one contender's figure to another's:
// both were measured back to back in each round.
func (r results) ratios(num, den key, f func(measurement) float64) []float64 {
	a, b := r[num], r[den]
	var v []float64
	for i := range min(len(a), len(b)) {
		v = append(v, f(a[i])/f(b[i]))
	}
	return v
}

func (r results) print(w io.Writer, cfg config, contenders []contender) {
	rps := func(m measurement) float64 { return m.RPS }
	p50 := func(m measurement) float64 { return m.P50us }
	p99 := func(m measurement) float64 { return m.P99us }
	cpu := func(m measurement) float64 { return m.serverCPUus }
	cs := func(m measurement) float64 { return m.serverCS }
	ccpu := func(m measurement) float64 { return m.clientCPUus }
	ccs := func(m measurement) float64 { return m.clientCS }
	fmt.Fprintf(w, "Medians (and ranges) of %d alternated rounds, %d calls each; CPU time and context switches are per call, all threads of the process together (the server's while the client ran, the client's over its whole run).\n\n", cfg.rounds, cfg.n)
	fmt.Fprintf(w, "| placement | in flight | contender | calls/s | p50 µs | p99 µs | server CPU µs | server switches | client CPU µs | client switches |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range cfg.places {
		for _, conc := range cfg.concs {
			for _, c := range contenders {
				k := key{p.name, c.name, conc}
				fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", p.name, conc, c.name,
					spread.Of(r.each(k, rps)).Format(0, ""), spread.Of(r.each(k, p50)).Format(1, ""), spread.Of(r.each(k, p99)).Format(1, ""),
					spread.Of(r.each(k, cpu)).Format(1, ""), spread.Of(r.each(k, cs)).Format(2, ""),
					spread.Of(r.each(k, ccpu)).Format(1, ""), spread.Of(r.each(k, ccs)).Format(2, ""))
			}
		}
	}
	fmt.Fprintf(w, "\nRatios to the echo, taken in each round, median (range):\n\n")
	fmt.Fprintf(w, "| placement | in flight | contender | p50 latency ÷ echo | throughput ÷ echo |\n|---|---|---|---|---|\n")
	for _, p := range cfg.places {
		for _, conc := range cfg.concs {
			for _, c := range contenders {
				if c.name == "wsecho" {
					continue
				}
				k, e := key{p.name, c.name, conc}, key{p.name, "wsecho", conc}
				fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", p.name, conc, c.name,
					spread.Of(r.ratios(k, e, p50)).Format(2, "×"), spread.Of(r.ratios(k, e, rps)).Format(2, "×"))
			}
		}
	}
}
