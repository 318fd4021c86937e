package demo

import (
	"math"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
)

// RouteStat is one IPC route's numbers, as the console's table shows
// them: read from the same Prometheus metrics an operator scrapes.
type RouteStat struct {
	Route  string  `json:"route"`
	Calls  float64 `json:"calls"`
	Errors float64 `json:"errors"`
	// SumMS is the handlers' total time; the page charts its change over
	// the change of Calls.
	SumMS float64 `json:"sum_ms"`
	// P99MS is the upper bound of the histogram bucket holding the 99th
	// percentile, -1 when it is past the last bound.
	P99MS float64 `json:"p99_ms"`
}

// routeStats reads the ipcord_ipc_* families of g, summed over servers.
func routeStats(g prometheus.Gatherer) []RouteStat {
	fams, err := g.Gather()
	if err != nil {
		return nil
	}
	type acc struct {
		RouteStat
		count   uint64
		buckets map[float64]uint64
	}
	by := map[string]*acc{}
	get := func(route string) *acc {
		if by[route] == nil {
			by[route] = &acc{RouteStat: RouteStat{Route: route}, buckets: map[float64]uint64{}}
		}
		return by[route]
	}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			route := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" {
					route = l.GetValue()
				}
			}
			switch f.GetName() {
			case "ipcord_ipc_calls_total":
				get(route).Calls += m.GetCounter().GetValue()
			case "ipcord_ipc_errors_total":
				get(route).Errors += m.GetCounter().GetValue()
			case "ipcord_ipc_call_duration_seconds":
				a := get(route)
				a.SumMS += m.GetHistogram().GetSampleSum() * 1000
				a.count += m.GetHistogram().GetSampleCount()
				for _, b := range m.GetHistogram().GetBucket() {
					a.buckets[b.GetUpperBound()] += b.GetCumulativeCount()
				}
			}
		}
	}
	out := make([]RouteStat, 0, len(by))
	for _, a := range by {
		a.P99MS = p99(a.buckets, a.count) * 1000
		out = append(out, a.RouteStat)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Route < out[j].Route })
	return out
}

// p99 is the smallest bucket bound (cumulative counts by bound) holding
// 99% of total samples, in seconds; -0.001 (shown as -1 ms) when that is
// past the last bound, 0 without samples.
func p99(buckets map[float64]uint64, total uint64) float64 {
	if total == 0 {
		return 0
	}
	bounds := make([]float64, 0, len(buckets))
	for b := range buckets {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	for _, b := range bounds {
		if float64(buckets[b]) >= 0.99*float64(total) && !math.IsInf(b, 1) {
			return b
		}
	}
	return -0.001
}
