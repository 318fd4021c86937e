package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDecodeFrames(t *testing.T) {
	tests := []struct {
		in   string
		want Frame
	}{
		{`{"t":"hello","v":1,"id":"dash-1","routes":["a","b"],"enc":["json"]}`,
			Frame{Type: TypeHello, Version: 1, Identifier: "dash-1", Routes: []string{"a", "b"}, Encodings: []string{"json"}}},
		{`{"t":"req","id":7,"route":"stats","args":{"x":[1,2,{"y":null}]},"timeout_ms":5000,"meta":{"trace":"abc"}}`,
			Frame{Type: TypeRequest, ID: 7, HasID: true, Route: "stats", Args: json.RawMessage(`{"x":[1,2,{"y":null}]}`), TimeoutMS: 5000, Meta: map[string]string{"trace": "abc"}}},
		{` { "t" : "res" , "id" : 9007199254740991 , "data" : "h\u00e9\"llo" } `,
			Frame{Type: TypeResult, ID: MaxID, HasID: true, Data: json.RawMessage(`"h\u00e9\"llo"`)}},
		{`{"t":"err","id":3,"code":"unknown_route","message":"no route \"x\""}`,
			Frame{Type: TypeError, ID: 3, HasID: true, Code: "unknown_route", Message: `no route "x"`}},
		{`{"t":"cancel","id":0}`, Frame{Type: TypeCancel, ID: 0, HasID: true}},
		{`{"t":"stream","id":4,"future":[1,{"a":true}]}`, Frame{Type: TypeUnknown, ID: 4, HasID: true}},
		{`{"t":"gossip"}`, Frame{Type: TypeUnknown}},
		{`{"id":2,"t":"res","data":-1.5e+3}`, Frame{Type: TypeResult, ID: 2, HasID: true, Data: json.RawMessage(`-1.5e+3`)}},
	}
	for _, tt := range tests {
		got, err := Decode([]byte(tt.in))
		if err != nil {
			t.Errorf("Decode(%s): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Decode(%s)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, in := range []string{
		``, `null`, `[]`, `{`, `{"t":"res","id":1,"data":}`, `{"t":"res","id":1,"data":01}`,
		`{"t":"res","id":-1,"data":1}`, `{"t":"res","id":9007199254740992,"data":1}`, `{"t":"res","id":1.5}`,
		`{"t":"req","id":1}`, `{"t":"req","route":"x"}`, `{"t":"err","id":1}`, `{"t":"hello","v":1}`,
		`{"t":5}`, `{"id":1}`, `{"t":"res","id":1,"data":"\x01"}`, `{"t":"res","id":1,"data":"\xff"}`,
		`{"t":"res","id":1,"data":tru}`, `{"t":"res","id":1} x`, `{"t":"res","id":1,}`, `{"t":"res" "id":1}`,
		`{"t":"res","id":1,"data":"\q"}`, `{"t":"res","id":1,"data":"\u12"}`, `{"t":"req","id":1,"route":"a","timeout_ms":-5}`,
		`{"t":"req","id":1,"route":"a","meta":{"k":1}}`, `{"t":"hello","id":"a","v":"1"}`,
		`{"t":"res","id":1,"data":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
	} {
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	meta := map[string]string{"trace": "t\"1", "b": "é"}
	frames := [][]byte{
		AppendHello(nil, "bot\n1", []string{"ping", "echo"}, 1<<20),
		AppendRequest(nil, 12, "stats", []byte(`{"a":1}`), 250, meta),
		AppendRequest(nil, 13, "stats", nil, 0, nil),
		AppendResult(nil, 12, []byte(`[1,"x"]`)),
		AppendError(nil, 12, "guild_not_found", "no guild \u2028 \xff here"),
		AppendCancel(nil, 12),
	}
	for _, b := range frames {
		if !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		if _, err := Decode(b); err != nil {
			t.Fatalf("Decode(%s): %v", b, err)
		}
	}
	req, _ := Decode(frames[1])
	if req.Route != "stats" || req.ID != 12 || req.TimeoutMS != 250 || !reflect.DeepEqual(req.Meta, meta) {
		t.Fatalf("request round trip: %+v", req)
	}
	if r, _ := Decode(frames[2]); string(r.Args) != "null" {
		t.Fatalf("nil args encoded as %q", r.Args)
	}
	e, _ := Decode(frames[4])
	if e.Message != "no guild \u2028 \ufffd here" {
		t.Fatalf("message round trip: %q", e.Message)
	}
	h, _ := Decode(frames[0])
	if h.Identifier != "bot\n1" || !reflect.DeepEqual(h.Routes, []string{"ping", "echo"}) {
		t.Fatalf("hello round trip: %+v", h)
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\"back\\slash", "ctl\x00\x1f\t\r\n", "ünï©ødé 😀", "bad\xffutf8"} {
		var back string
		if err := json.Unmarshal(AppendString(nil, s), &back); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		want, _ := json.Marshal(s)
		var wantBack string
		json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("AppendString(%q) decodes to %q, encoding/json gives %q", s, back, wantBack)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"t":"req","id":7,"route":"stats","args":{"x":[1,2]},"timeout_ms":5000,"meta":{"a":"b"}}`))
	f.Add([]byte(`{"t":"hello","v":1,"id":"x","routes":["a"],"enc":["json"]}`))
	f.Add([]byte(`{"t":"err","id":3,"code":"c","message":"m\u00e9"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		for _, raw := range []json.RawMessage{fr.Args, fr.Data} {
			if raw != nil && !json.Valid(raw) {
				t.Fatalf("raw value %q is not valid JSON", raw)
			}
		}
		// What we accept, we can write back and read again identically.
		var again []byte
		switch fr.Type {
		case TypeRequest:
			again = AppendRequest(nil, fr.ID, fr.Route, fr.Args, fr.TimeoutMS, fr.Meta)
		case TypeResult:
			again = AppendResult(nil, fr.ID, fr.Data)
		case TypeError:
			again = AppendError(nil, fr.ID, fr.Code, fr.Message)
		default:
			return
		}
		fr2, err := Decode(again)
		if err != nil || fr2.ID != fr.ID || fr2.Route != fr.Route || fr2.Code != fr.Code {
			t.Fatalf("re-encoded frame %q: %+v, %v", again, fr2, err)
		}
	})
}

func BenchmarkDecodeRequest(b *testing.B) {
	in := []byte(`{"t":"req","id":12345,"route":"ping","args":{"n":1},"timeout_ms":5000}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeRequestEncodingJSON(b *testing.B) {
	in := []byte(`{"t":"req","id":12345,"route":"ping","args":{"n":1},"timeout_ms":5000}`)
	var v struct {
		T         string            `json:"t"`
		ID        uint64            `json:"id"`
		Route     string            `json:"route"`
		Args      json.RawMessage   `json:"args"`
		TimeoutMS int64             `json:"timeout_ms"`
		Meta      map[string]string `json:"meta"`
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if err := json.Unmarshal(in, &v); err != nil {
			b.Fatal(err)
		}
	}
}
