package gateway_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ipcord/ipcord/gateway"
)

// TestIdentifyActivitiesNeverNull: a Presence without activities is sent
// with "activities":[]; Discord refuses null.
func TestIdentifyActivitiesNeverNull(t *testing.T) {
	c := newConn(t, gateway.Config{Token: "t", Presence: &gateway.Presence{Status: "online"}})
	d, err := c.Connect()
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, gateway.CompressNone)
	feed(t, c, p.accept(d))
	feed(t, c, p.frame(helloMsg))
	if err := c.Identify(); err != nil {
		t.Fatal(err)
	}
	ps := p.sentPayloads(c.Output())
	var id struct {
		Presence map[string]json.RawMessage `json:"presence"`
	}
	if err := json.Unmarshal(ps[0].D, &id); err != nil || string(id.Presence["activities"]) != "[]" {
		t.Fatalf("IDENTIFY %s: %v", ps[0].D, err)
	}
}

func TestLargeThresholdRange(t *testing.T) {
	for _, n := range []int{-1, 1, 49, 251, 1000} {
		if _, err := gateway.New(gateway.Config{Token: "t", LargeThreshold: n}); !errors.Is(err, gateway.ErrState) {
			t.Errorf("LargeThreshold %d: %v, want ErrState", n, err)
		}
	}
	for _, n := range []int{0, 50, 250} {
		if _, err := gateway.New(gateway.Config{Token: "t", LargeThreshold: n}); err != nil {
			t.Errorf("LargeThreshold %d: %v", n, err)
		}
	}
}

// TestKeyAfterD: Discord writes t, s, op, d in that order and the fast
// path takes d unread; a payload with a key after d still yields d itself.
func TestKeyAfterD(t *testing.T) {
	cases := []struct{ msg, data string }{
		{`{"t":"X","s":2,"op":0,"d":{"a":1},"trace":"z"}`, `{"a":1}`},
		{`{"t":"X","s":3,"op":0,"d":{"a":1},"n":7}`, `{"a":1}`},
		{`{"t":"X","s":4,"op":0,"d":{"a":1},"meta":[1]}`, `{"a":1}`},
		{`{"t":"X","s":5,"op":0,"d":{"a":1},"meta":{"a":2}}`, `{"a":1}`},    // same kind as d
		{`{"t":"X","s":6,"op":0,"d":{"a":1} , "meta":{"a":2} }`, `{"a":1}`}, // and spaces
	}
	c := newConn(t, gateway.Config{Token: "t"})
	d, err := c.Connect()
	if err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, gateway.CompressNone)
	feed(t, c, p.accept(d))
	feed(t, c, p.frame(helloMsg))
	if err := c.Identify(); err != nil {
		t.Fatal(err)
	}
	// READY is read by the Conn itself (session id, resume URL).
	evs := feed(t, c, p.frame(`{"t":"READY","s":1,"op":0,"d":{"session_id":"s1","resume_gateway_url":"wss://r"},"trace":{"gw":"x"}}`))
	if r, ok := evs[0].(*gateway.Ready); !ok || r.SessionID != "s1" || string(r.Dispatch.Data) != `{"session_id":"s1","resume_gateway_url":"wss://r"}` {
		t.Fatalf("READY with a key after d: %#v", evs[0])
	}
	var clones []gateway.Dispatch
	for _, tc := range cases {
		evs := feed(t, c, p.frame(tc.msg))
		if len(evs) != 1 {
			t.Fatalf("%s: events %v", tc.msg, evs)
		}
		dp, ok := evs[0].(*gateway.Dispatch)
		if !ok {
			t.Fatalf("%s: %#v", tc.msg, evs[0])
		}
		clones = append(clones, dp.Clone()) // before Decode corrects Data
		var v struct{ A int }
		if err := dp.Decode(&v); err != nil || v.A != 1 {
			t.Errorf("%s: decoded %+v, %v", tc.msg, v, err)
		}
		if string(dp.Data) != tc.data {
			t.Errorf("%s: Data %s, want %s", tc.msg, dp.Data, tc.data)
		}
	}
	// A clone outlives the Conn's buffers (overwritten by the messages
	// that followed) and still finds d in a payload with a key after it.
	for i, cl := range clones {
		var v struct{ A int }
		if err := cl.Decode(&v); err != nil || v.A != 1 || string(cl.Data) != cases[i].data {
			t.Errorf("clone of %s: decoded %+v, %v; Data %s", cases[i].msg, v, err, cl.Data)
		}
	}
}
