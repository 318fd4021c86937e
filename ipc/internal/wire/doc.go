// Package wire encodes and decodes the frames of ipcord's native protocol
// (ipcord.v1): small JSON objects with a type field "t".
//
// The decoder is hand-written rather than encoding/json because every call
// crosses it twice and the envelope's "id" is a string in hello frames and a
// number everywhere else; it validates the raw JSON it hands out (args, data)
// so nothing invalid reaches a handler or a caller.
package wire
