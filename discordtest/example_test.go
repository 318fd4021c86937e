package discordtest_test

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	"github.com/ipcord/ipcord/discordtest"
)

func ExampleSigner() {
	signer, _ := discordtest.NewSignerFromKey(make([]byte, 32)) // a fixed seed for a stable output
	body := []byte(`{"type":1}`)
	sig := signer.Sign("1700000000", body)
	raw, _ := hex.DecodeString(sig)
	fmt.Println(signer.PublicKeyHex())
	fmt.Println(ed25519.Verify(signer.PublicKey(), append([]byte("1700000000"), body...), raw))
	// Output:
	// 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29
	// true
}
