// Package demo holds the parts of `ipcord demo` and `ipcord fake`: a fake
// Discord run as a service (Fake, with a control API for scripts), a sample
// bot (Bot: a guild cache, a !ping command, one interaction listener served
// over HTTP and over the gateway, IPC routes, and an error feed), and an
// operator console (Dashboard) that is an IPC client of the bot, drives
// the fake's faults through its control API, and deploys a new generation
// of the bot's shards by handoff (the bot's deploy route). Start runs them all, wired
// together and recorded by a metrics.Recorder served at /metrics, as
// `ipcord demo` does; RunProcess runs the bot alone, as `ipcord bot` does.
//
// The parts talk to each other only through the real protocols — the
// gateway over WebSocket, REST over HTTP, IPC over WebSocket — so the demo
// shows what a deployment with separate processes does, in one process.
package demo
