package ipc_test

import (
	"errors"
	"fmt"

	"github.com/ipcord/ipcord/ipc"
)

func ExampleParseDialect() {
	d, err := ipc.ParseDialect("zonis")
	fmt.Println(d, err)
	_, err = ipc.ParseDialect("grpc")
	fmt.Println(errors.Is(err, ipc.ErrUnknownDialect))
	// Output:
	// zonis <nil>
	// true
}
