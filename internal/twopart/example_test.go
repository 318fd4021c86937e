package twopart_test

import (
	"fmt"
	"io"

	"github.com/ipcord/ipcord/internal/twopart"
)

func ExampleReader() {
	var r twopart.Reader
	r.Reset([]byte("hello, "), []byte("world"))
	b, _ := io.ReadAll(&r)
	fmt.Printf("%s, %d left\n", b, r.Remaining())
	// Output: hello, world, 0 left
}
