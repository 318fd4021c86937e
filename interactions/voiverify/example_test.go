package voiverify_test

import (
	"fmt"

	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/interactions/voiverify"
)

func Example() {
	_, err := interactions.New(interactions.Config{
		PublicKey:   "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		NewVerifier: voiverify.New,
	})
	fmt.Println(err)
	// Output: <nil>
}
