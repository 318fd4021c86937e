// Package twopart holds Reader, an io.Reader over two byte slices read one
// after the other without copying them together: a compressed message and
// the bytes a decompressor needs after it (permessage-deflate's sync-flush
// tail, or the rest of a zstd stream's input).
package twopart
