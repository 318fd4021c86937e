package cputime_test

import (
	"fmt"

	"github.com/ipcord/ipcord/internal/cputime"
)

func Example() {
	start := cputime.Process()
	sum := 0
	for i := range 10_000_000 {
		sum += i
	}
	used := cputime.Process() - start
	fmt.Println(sum > 0, used >= 0)
	// Output: true true
}
