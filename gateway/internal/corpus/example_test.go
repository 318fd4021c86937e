package corpus_test

import (
	"fmt"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/gateway/internal/corpus"
)

// Generate takes about a second (a minute under -race), so this example
// is compiled but not run.
func ExampleGenerate() {
	c := corpus.Generate()
	conn, _ := gateway.New(gateway.Config{Token: "t", Compression: gateway.CompressZstd})
	n, err := corpus.Replay(conn, c.Stream(gateway.CompressZstd), nil)
	fmt.Println(n, err)
}

func ExampleReplay() {
	c := &corpus.Corpus{Msgs: [][]byte{
		[]byte(`{"t":null,"s":null,"op":10,"d":{"heartbeat_interval":41250}}`),
		[]byte(`{"t":"MESSAGE_CREATE","s":1,"op":0,"d":{"content":"hi"}}`),
	}}
	conn, _ := gateway.New(gateway.Config{Token: "t"})
	n, err := corpus.Replay(conn, c.Stream(gateway.CompressNone), func(ev gateway.Event) error {
		fmt.Printf("%T\n", ev)
		return nil
	})
	fmt.Println(n, err)
	// Output:
	// *gateway.Hello
	// *gateway.Dispatch
	// 2 <nil>
}
