package zstdstream

// seqTable is a sequence field's decoding table, sized for the largest
// accuracy log, so that indexing it by a state masked to 9 bits needs no
// bounds check; a table of a smaller log uses its first cells.
type seqTable [1 << maxLLLog]seqCell

// seqCell is one state of a sequence code's decoding table, with the
// code's value already looked up: the value is base plus extra bits read
// from the stream. Its fields are packed in one word, which the decoding
// loop loads at once and takes apart in registers: as a struct, each
// field was a load of its own, and their addresses took registers the
// loop then lacked.
type seqCell uint64

func makeSeqCell(base uint32, next uint16, nbits, extra uint8) seqCell {
	return seqCell(base) | seqCell(next)<<32 | seqCell(nbits)<<48 | seqCell(extra)<<56
}

// base is the value of the cell's code without its extra bits.
func (c seqCell) base() uint32 { return uint32(c) }

// next is the base of the next state.
func (c seqCell) next() uint32 { return uint32(c>>32) & 0xFFFF }

// nbits is the number of bits read for the next state.
func (c seqCell) nbits() uint8 { return uint8(c >> 48) }

// extra is the number of extra bits of the value.
func (c seqCell) extra() uint8 { return uint8(c >> 56) }

// Largest accuracy logs and codes of the three sequence tables
// (RFC 8878, 3.1.1.3.2.2).
const (
	maxLLLog  = 9
	maxMLLog  = 9
	maxOFLog  = 8
	maxLLCode = 35
	maxMLCode = 52
	maxOFCode = 31
)

// seqKind is a sequence field: literal length, offset or match length.
type seqKind int

const (
	kindLL seqKind = iota
	kindOF
	kindML
)

var (
	maxCode = [3]int{maxLLCode, maxOFCode, maxMLCode}
	maxLog  = [3]int{maxLLLog, maxOFLog, maxMLLog}
)

// Literal length codes 16 to 35 and match length codes 32 to 52 (the
// smaller codes are their value, plus 3 for match lengths).
var (
	llBase  = [20]uint32{16, 18, 20, 22, 24, 28, 32, 40, 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536}
	llExtra = [20]uint8{1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	mlBase  = [21]uint32{35, 37, 39, 41, 43, 47, 51, 59, 67, 83, 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539}
	mlExtra = [21]uint8{1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
)

// codeValue returns the base and extra bits of a code.
func codeValue(k seqKind, code uint8) (uint32, uint8) {
	switch k {
	case kindLL:
		if code < 16 {
			return uint32(code), 0
		}
		return llBase[code-16], llExtra[code-16]
	case kindML:
		if code < 32 {
			return uint32(code) + 3, 0
		}
		return mlBase[code-32], mlExtra[code-32]
	}
	return 1 << code, code
}

// The predefined distributions (RFC 8878, 3.1.1.3.2.2).
var (
	llDefault = []int16{4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1}
	mlDefault = []int16{1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1}
	ofDefault = []int16{1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1}
)

// The predefined tables and their logs, built once.
var (
	predefined = [3]*seqTable{
		kindLL: mustSeqTable(kindLL, llDefault, 6),
		kindOF: mustSeqTable(kindOF, ofDefault, 5),
		kindML: mustSeqTable(kindML, mlDefault, 6),
	}
	predefinedLog = [3]uint8{kindLL: 6, kindOF: 5, kindML: 6}
)

func mustSeqTable(k seqKind, norm []int16, log int) *seqTable {
	t := new(seqTable)
	if err := buildSeqTable(t, k, norm, log); err != nil {
		panic("zstdstream: predefined table: " + err.Error())
	}
	return t
}

// buildSeqTable fills t's first 1<<log cells for the sequence field k.
func buildSeqTable(t *seqTable, k seqKind, norm []int16, log int) error {
	var cells [1 << maxLLLog]fseCell
	if err := buildFSE(cells[:], norm, log); err != nil {
		return err
	}
	for i, c := range cells[:1<<log] {
		base, extra := codeValue(k, c.sym)
		t[i] = makeSeqCell(base, c.next, c.nbits, extra)
	}
	return nil
}

// rleSeqTable makes t the one-state table of a field whose every code is
// code.
func rleSeqTable(t *seqTable, k seqKind, code uint8) {
	base, extra := codeValue(k, code)
	t[0] = makeSeqCell(base, 0, 0, extra)
}
