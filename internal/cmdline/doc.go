// Package cmdline holds what ipcord's command-line programs (ipcord and
// ipcord-nats) share: flags that may come after positional arguments, call
// arguments written as k=v pairs, and the diagnostic routes `serve` offers.
package cmdline
