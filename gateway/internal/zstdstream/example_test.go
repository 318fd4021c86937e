package zstdstream_test

import (
	"bytes"
	"fmt"

	"github.com/ipcord/ipcord/gateway/internal/zstdstream"
	"github.com/klauspost/compress/zstd"
)

// A zstd-stream as Discord sends it: one frame, flushed after each
// message; each message is decoded on its own, unit by unit.
func Example() {
	var wire bytes.Buffer
	enc, _ := zstd.NewWriter(&wire, zstd.WithWindowSize(1<<20))
	var msgs [][]byte
	for _, m := range []string{`{"op":10,"d":{"heartbeat_interval":41250}}`, `{"op":11,"d":null}`} {
		enc.Write([]byte(m))
		enc.Flush()
		msgs = append(msgs, bytes.Clone(wire.Bytes()))
		wire.Reset()
	}

	var d zstdstream.Decoder
	space := make([]byte, zstdstream.OutputSpace)
	for _, m := range msgs {
		var out []byte
		for len(m) > 0 {
			n, used, err := d.Decode(space, m)
			if err != nil {
				fmt.Println(err)
				return
			}
			out = append(out, space[:n]...)
			m = m[used:]
		}
		fmt.Printf("%s\n", out)
	}
	fmt.Println("history held:", d.Held())
	// Output:
	// {"op":10,"d":{"heartbeat_interval":41250}}
	// {"op":11,"d":null}
	// history held: 16384
}
