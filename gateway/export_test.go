package gateway

// NewInflaterForTest exposes the per-message inflaters to the external tests and
// benchmarks: it returns a function inflating one WebSocket message of a
// new connection's stream.
func NewInflaterForTest(comp Compression) func(p []byte) (out []byte, ok bool, err error) {
	switch comp {
	case CompressZlib:
		z := newZlibInflater(DefaultMaxMessage)
		return z.inflate
	case CompressZstd:
		z := newZstdInflater(DefaultMaxMessage, DefaultZstdMaxWindow)
		if err := z.reset(); err != nil {
			panic(err)
		}
		return func(p []byte) ([]byte, bool, error) {
			out, err := z.inflate(p)
			return out, err == nil, err
		}
	}
	return func(p []byte) ([]byte, bool, error) { return p, true, nil }
}
