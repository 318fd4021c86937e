// Package demo holds the parts of `ipcord demo` and `ipcord fake`: a fake
// Discord run as a service (Fake, with a control API for scripts), a sample
// bot (Bot: a guild cache, a !ping command, one interaction listener served
// over HTTP and over the gateway, and IPC routes), and a web dashboard
// (Dashboard) that is an IPC client of the bot. Start runs them all, wired
// together, as `ipcord demo` does.
//
// The parts talk to each other only through the real protocols — the
// gateway over WebSocket, REST over HTTP, IPC over WebSocket — so the demo
// shows what a deployment with separate processes does, in one process.
package demo
