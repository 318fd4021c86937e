package wsproto_test

import (
	"fmt"

	"github.com/ipcord/ipcord/internal/wsproto"
)

func ExampleAcceptDeflate() {
	// A browser's offer; the server answers with no context takeover.
	resp, ok := wsproto.AcceptDeflate([]string{"permessage-deflate; client_max_window_bits"})
	fmt.Println(ok, resp)

	// The client checks the answer before sending compressed messages.
	on, err := wsproto.CheckDeflateResponse(resp)
	fmt.Println(on, err)
	// Output:
	// true permessage-deflate; server_no_context_takeover; client_no_context_takeover
	// true <nil>
}

func ExampleDeflater() {
	var d wsproto.Deflater
	var f wsproto.Inflater
	msg := []byte(`{"t":"res","id":1,"data":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`)
	payload := d.Append(nil, msg) // send with RSV1 set
	frame := wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpText, true, true, [4]byte{}, payload)

	dec := wsproto.Decoder{Role: wsproto.Client, AllowRSV1: true}
	dec.Feed(frame)
	m, _, _ := dec.Next()
	plain, err := f.Append(nil, m.Payload, dec.MaxMessage)
	fmt.Println(m.Compressed, len(payload) < len(msg), string(plain) == string(msg), err)
	// Output: true true true <nil>
}
