// Package metrics exposes what ipcord's parts report as Prometheus metrics,
// and a health endpoint, the two things operators collect from a process.
//
// The core packages know nothing of Prometheus: ipc has Hooks and
// Server.Connections, gateway/shard has Status and the event Handler,
// interactions has OnDefer, OnLateAnswer and OnError. A Recorder turns
// those into metrics in a prometheus.Registry and serves them with
// Handler; a program that prefers OpenTelemetry wires the same hooks to
// its own instruments instead and never links this package.
//
//	rec, err := metrics.New(metrics.Config{})
//	err = rec.IPCServer(srv)               // before srv serves
//	shardConfig.Handler = rec.ShardHandler(h)
//	err = rec.Shards(manager.Status)
//	rec.Interactions(&interactionsConfig)  // before interactions.New; serve rec.InteractionsHandler(ep)
//	health := &metrics.Health{}
//	health.Add("shards", metrics.ShardsRunning(manager.Status))
//	http.Handle("GET /metrics", rec.Handler())
//	http.Handle("GET /healthz", health)
//
// The metrics, all under the ipcord_ prefix:
//
//	ipc_calls_total{server,route}              requests served, refused ones included
//	ipc_errors_total{server,route,code}        failed requests by ipc error code
//	ipc_call_duration_seconds{server,route}    handler latency of known routes (histogram)
//	ipc_connections{server}                    open connections, every dialect
//	shard_state{shard,state}                   1 for the state the shard is in
//	shard_heartbeat_latency_seconds{shard}     last heartbeat's round trip
//	shard_last_ack_age_seconds{shard}          time since the last heartbeat ACK
//	shard_last_close_code{shard}               the gateway's last close code
//	shard_connections_total{shard}             and reconnects, identifies, resumes
//	shard_events_total{shard,type}             dispatches handled, by event name
//	shard_queued_events{shard}                 events waiting for the handler
//	shard_pauses_total{shard}                  reads paused by a full event queue
//	shard_sequence{shard}                      last sequence number received
//	interactions_requests_total{status}        HTTP answers of the endpoint
//	interactions_deferred_total                automatic defers
//	interactions_late_answers_total{result}    answers after a defer: delivered or failed
//	interactions_listener_errors_total         listener and delivery failures
//
// A route the server does not have is counted under route="(unknown)", so
// callers cannot grow the label set.
package metrics
