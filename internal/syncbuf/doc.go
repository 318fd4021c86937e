// Package syncbuf holds Buffer, a bytes.Buffer that one goroutine may
// write while another reads it: what a test needs to watch the output of
// a command or a logger running beside it.
package syncbuf
