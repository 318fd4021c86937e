package corpus_test

import (
	"fmt"

	"github.com/ipcord/ipcord/gateway/internal/corpus"
)

func ExampleGenerate() {
	c := corpus.Generate()
	fmt.Println(len(c.Msgs), "messages")
	fmt.Printf("%.28s\n", c.Msgs[1])
	// Output:
	// 5000 messages
	// {"t":"READY","s":1,"op":0,"d
}
