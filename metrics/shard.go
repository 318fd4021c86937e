package metrics

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ipcord/ipcord/gateway/shard"
)

// ShardHandler returns a handler that counts each event by shard and name
// (shard_events_total) and then passes it to h (nil drops it).
func (r *Recorder) ShardHandler(h shard.Handler) shard.Handler {
	return func(ctx context.Context, ev shard.Event) {
		r.shardEvents.WithLabelValues(strconv.Itoa(ev.Shard), ev.Name).Inc()
		if h != nil {
			h(ctx, ev)
		}
	}
}

// Shards records the shards status reports (a Manager's or a Shard's
// Status, read at each scrape). Call it once per Recorder.
func (r *Recorder) Shards(status func() []shard.Status) error {
	return r.register(&shardCollector{r: r, status: status})
}

var (
	shardLabels  = []string{"shard"}
	descState    = prometheus.NewDesc("ipcord_shard_state", "1 for the state the shard is in, 0 for the others.", []string{"shard", "state"}, nil)
	descLatency  = prometheus.NewDesc("ipcord_shard_heartbeat_latency_seconds", "Round trip of the last acknowledged heartbeat.", shardLabels, nil)
	descACKAge   = prometheus.NewDesc("ipcord_shard_last_ack_age_seconds", "Time since the last heartbeat ACK (absent before the first).", shardLabels, nil)
	descClose    = prometheus.NewDesc("ipcord_shard_last_close_code", "Code of the last close frame the gateway sent, 0 if none.", shardLabels, nil)
	descSeq      = prometheus.NewDesc("ipcord_shard_sequence", "Last sequence number received on the session.", shardLabels, nil)
	descQueued   = prometheus.NewDesc("ipcord_shard_queued_events", "Events waiting for the handler.", shardLabels, nil)
	descConns    = prometheus.NewDesc("ipcord_shard_connections_total", "Gateway connections opened.", shardLabels, nil)
	descReconn   = prometheus.NewDesc("ipcord_shard_reconnects_total", "Gateway connections opened after the first.", shardLabels, nil)
	descIdentify = prometheus.NewDesc("ipcord_shard_identifies_total", "IDENTIFY payloads sent.", shardLabels, nil)
	descResume   = prometheus.NewDesc("ipcord_shard_resumes_total", "RESUME payloads sent.", shardLabels, nil)
	descPauses   = prometheus.NewDesc("ipcord_shard_pauses_total", "Times reading stopped because the event queue was full.", shardLabels, nil)
)

// states are every shard.State, so each shard_state series exists from
// the first scrape (a missing series reads as "no data", not 0).
var states = []shard.State{shard.StateIdle, shard.StateConnecting, shard.StateIdentifying, shard.StateResuming,
	shard.StateReady, shard.StateBackoff, shard.StateStopped}

// shardCollector reads shard status at scrape time, so the numbers are
// the shards' own and cost nothing between scrapes.
type shardCollector struct {
	r      *Recorder
	status func() []shard.Status
}

func (c *shardCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descLatency, descACKAge, descClose, descSeq, descQueued,
		descConns, descReconn, descIdentify, descResume, descPauses} {
		ch <- d
	}
}

func (c *shardCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.r.now()
	for _, st := range c.status() {
		id := strconv.Itoa(st.ID)
		for _, s := range states {
			v := 0.0
			if s == st.State {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, v, id, s.String())
		}
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, id)
		}
		counter := func(d *prometheus.Desc, v int) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), id)
		}
		gauge(descLatency, st.Latency.Seconds())
		if !st.LastACK.IsZero() {
			gauge(descACKAge, max(now.Sub(st.LastACK).Seconds(), 0))
		}
		gauge(descClose, float64(st.LastCloseCode))
		gauge(descSeq, float64(st.Seq))
		gauge(descQueued, float64(st.Queued))
		counter(descConns, st.Connections)
		counter(descReconn, st.Reconnects)
		counter(descIdentify, st.Identifies)
		counter(descResume, st.Resumes)
		counter(descPauses, st.Pauses)
	}
}
