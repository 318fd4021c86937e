// Package cmdline holds the command line's conventions, apart from its
// subcommands: flags that may come after positional arguments, call
// arguments written as k=v pairs, exit statuses, and the diagnostic routes
// `serve` offers (over WebSocket and over NATS alike).
package cmdline
