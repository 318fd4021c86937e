package twopart_test

import (
	"io"
	"testing"

	"github.com/ipcord/ipcord/internal/twopart"
)

// Bytes come out in order whichever way they are read, and EOF follows.
func TestReaderMixesReadAndReadByte(t *testing.T) {
	var r twopart.Reader
	r.Reset([]byte("ab"), []byte("cde"))
	c, _ := r.ReadByte()
	buf := make([]byte, 2)
	n, _ := r.Read(buf) // only what is left of the first part
	got := string(c) + string(buf[:n])
	rest, _ := io.ReadAll(&r)
	got += string(rest)
	if got != "abcde" || n != 1 || r.Remaining() != 0 {
		t.Fatalf("read %q (second read %d bytes), %d left", got, n, r.Remaining())
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("after the end: %v, want io.EOF", err)
	}
}
