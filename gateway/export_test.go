package gateway

// NewInflaterForTest exposes the per-message inflaters to the external
// tests and benchmarks: inflate takes one WebSocket message, reset starts
// a new connection's stream (as Conn.Connect does). zstdFast picks
// klauspost's decoder for zstd-stream (Config.ZstdFastDecoder).
func NewInflaterForTest(comp Compression, zstdFast bool) (inflate func(p []byte) (out []byte, ok bool, err error), reset func()) {
	switch comp {
	case CompressZlib:
		z := newZlibInflater(DefaultMaxMessage)
		return z.inflate, z.reset
	case CompressZstd:
		z := newZstdInflater(DefaultMaxMessage, DefaultZstdMaxWindow, zstdFast)
		reset = func() {
			if err := z.reset(); err != nil {
				panic(err)
			}
		}
		reset()
		return func(p []byte) ([]byte, bool, error) {
			out, err := z.inflate(p)
			return out, err == nil, err
		}, reset
	}
	return func(p []byte) ([]byte, bool, error) { return p, true, nil }, func() {}
}

// LoadSessionForTest returns the messages of testdata/session.jsonl.
var LoadSessionForTest = loadSession
