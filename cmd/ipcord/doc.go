// Command ipcord runs the ipcord toolkit from the shell: the demo, an IPC
// server, calls to its routes, a load generator, and the Discord helpers.
//
// Each subcommand lives in its own file and registers itself in init, so a
// new subcommand never touches another's file.
package main
