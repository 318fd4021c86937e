package wire_test

import (
	"fmt"

	"github.com/ipcord/ipcord/ipc/internal/wire"
)

func ExampleDecode() {
	frame := wire.AppendRequest(nil, 7, "stats", []byte(`{"guild":"42"}`), 5000, nil)
	fmt.Println(string(frame))
	f, err := wire.Decode(frame)
	fmt.Println(f.Type, f.ID, f.Route, string(f.Args), f.TimeoutMS, err)
	// Output:
	// {"t":"req","id":7,"route":"stats","args":{"guild":"42"},"timeout_ms":5000}
	// req 7 stats {"guild":"42"} 5000 <nil>
}
