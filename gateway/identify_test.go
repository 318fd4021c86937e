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
	for _, tc := range cases {
		evs := feed(t, c, p.frame(tc.msg))
		if len(evs) != 1 {
			t.Fatalf("%s: events %v", tc.msg, evs)
		}
		dp, ok := evs[0].(*gateway.Dispatch)
		if !ok {
			t.Fatalf("%s: %#v", tc.msg, evs[0])
		}
		var v struct{ A int }
		if err := dp.Decode(&v); err != nil || v.A != 1 {
			t.Errorf("%s: decoded %+v, %v", tc.msg, v, err)
		}
		if string(dp.Data) != tc.data {
			t.Errorf("%s: Data %s, want %s", tc.msg, dp.Data, tc.data)
		}
	}
}
