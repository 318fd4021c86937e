// Package zstdstream decodes a zstd-stream, Discord's transport
// compression: one Zstandard frame (RFC 8878) spanning the connection, each
// WebSocket message ending on a block boundary. It decodes block by block
// into the caller's buffer and keeps, between messages, only what the
// stream needs: the history the frame's window lets later blocks refer to,
// grown in 16 KiB pieces as output arrives (an idle connection that has
// received 40 KiB holds 48 KiB, not the declared window), and the entropy
// tables a later block may repeat (about 17 KiB).
//
// No block-sized buffer is kept for literals: raw literals are read where
// they lie in the input, up to 4 KiB of Huffman-coded ones are decoded
// into a small array (dropped by Compact), and more into the end of the
// caller's output space, which the block's output then overwrites from
// the front no faster than it consumes them.
//
// Content checksums are skipped, not verified: a WebSocket over TLS has
// already checked the bytes, and the checksum covers a frame that on a
// zstd-stream never ends.
package zstdstream
