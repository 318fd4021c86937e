package ipc_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/ipcord/ipcord/ipc"
)

// better-ipc's multicast mode calls routes on the discovery port; the
// default server answers them, in better-ipc's envelope, with its secret.
func TestBetterIPCMulticastOnDiscoveryPort(t *testing.T) {
	leaktest.Check(t)
	s0, _ := namedServer(t, "c0")
	s1, _ := namedServer(t, "c1")
	d := &ipc.Discovery{Secret: "disco", Default: "c1"}
	d.Add(s0)
	d.Add(s1)
	addr := startDiscovery(t, d)

	for _, tc := range []struct{ send, want string }{
		{`{"endpoint": "who", "secret": "s3cret", "kwargs": {}}`, `{"decoding": null, "code": 200, "response": "c1"}`},
		{`{"endpoint": "nope", "secret": "s3cret", "kwargs": {}}`, `{"decoding": null, "code": 404, "response": null, "error": "Unknown endpoint!", "error_details": "The route that you're trying to call doesn't exist!"}`},
		{`{"endpoint": "who", "secret": "wrong", "kwargs": {}}`, `{"decoding": null, "code": 403, "response": null, "error": "Unauthorized", "error_details": "You're trying to connect with an invalid secret key!"}`},
	} {
		pc := plainDial(t, "ws://"+addr, nil)
		pc.send(tc.send)
		m, err := pc.next(5 * time.Second)
		if err != nil || m.Op != wsproto.OpText {
			t.Fatalf("%s: got %v %v", tc.send, m.Op, err)
		}
		if !(vars{}).match(decodeAny(t, 0, tc.want), decodeAny(t, 0, string(m.Payload))) {
			t.Fatalf("%s:\n got  %s\n want %s", tc.send, m.Payload, tc.want)
		}
	}

	// Our own client in multicast mode, pointed at the discovery port.
	c := dial(t, ipc.ClientConfig{URL: "ws://" + addr, Dialect: ipc.BetterIPCMulticast})
	for range 2 {
		if who, err := ipc.CallAs[string](ctxTimeout(t, 5*time.Second), c, "who", nil); err != nil || who != "c1" {
			t.Fatalf("multicast call: %q %v", who, err)
		}
	}
}

// An ext-ipc client created without a port asks the discovery listener
// for the default server's, then calls there.
func TestExtIPCClientThroughDiscovery(t *testing.T) {
	leaktest.Check(t)
	s0, _ := namedServer(t, "c0")
	d := &ipc.Discovery{}
	d.Add(s0)
	addr := startDiscovery(t, d)
	ctx := ctxTimeout(t, 5*time.Second)
	c := dial(t, ipc.ClientConfig{URL: "ws://" + addr, Dialect: ipc.ExtIPC, ExtIPCDiscovery: true})
	if who, err := ipc.CallAs[string](ctx, c, "who", nil); err != nil || who != "c0" {
		t.Fatalf("call through discovery: %q %v", who, err)
	}
	_, err := ipc.Dial(ctx, ipc.ClientConfig{URL: "ws://" + addr, Dialect: ipc.ExtIPC, ExtIPCDiscovery: true, Secret: "wrong"})
	if !errors.Is(err, ipc.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
}
