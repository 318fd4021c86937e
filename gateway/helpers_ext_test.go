package gateway_test

import (
	"bufio"
	"os"
	"testing"
)

func loadSessionLines(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/session.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var msgs [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		msgs = append(msgs, append([]byte(nil), sc.Bytes()...))
	}
	return msgs
}
