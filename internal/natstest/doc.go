// Package natstest runs a real nats-server inside a test process.
//
// The tests of ipc/natsipc, interactions and cmd/ipcord talk to a real
// NATS server rather than a fake one; this package is the one place that
// knows how to start it quietly on 127.0.0.1, wait until it accepts
// clients, and stop it when the test ends.
package natstest
