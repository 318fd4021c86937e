package wsproto_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/internal/wsproto"
)

func TestAcceptKeyRFCExample(t *testing.T) {
	// RFC 6455 section 1.3.
	if got := wsproto.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
}

func TestNewKey(t *testing.T) {
	a, b := wsproto.NewKey(), wsproto.NewKey()
	if len(a) != 24 || a == b {
		t.Fatalf("NewKey gave %q and %q", a, b)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", a)
	if _, err := wsproto.CheckRequest(r); err != nil {
		t.Fatalf("CheckRequest refused NewKey's key: %v", err)
	}
}

func TestRequestAppend(t *testing.T) {
	u, _ := url.Parse("wss://gateway.discord.gg/?v=10&encoding=json")
	req := wsproto.Request{
		URL:          u,
		Key:          "dGhlIHNhbXBsZSBub25jZQ==",
		Subprotocols: []string{"ipcord.v1", "chat"},
		Extensions:   "permessage-deflate; client_max_window_bits",
		Header: http.Header{
			"User-Agent":    {"ipcord-test"},
			"Authorization": {"Bearer s3cret\r\nX-Evil: 1"},
			"Connection":    {"close"}, // the handshake's own header wins
		},
	}
	want := "GET /?v=10&encoding=json HTTP/1.1\r\n" +
		"Host: gateway.discord.gg\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: ipcord.v1, chat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"Authorization: Bearer s3cret  X-Evil: 1\r\n" +
		"User-Agent: ipcord-test\r\n" +
		"\r\n"
	if got := string(req.Append(nil)); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func goodResponse(key string, extra string) string {
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + wsproto.AcceptKey(key) + "\r\n" + extra + "\r\n"
}

func TestParseResponse(t *testing.T) {
	key := wsproto.NewKey()
	req := &wsproto.Request{Key: key, Subprotocols: []string{"a", "b"}}
	full := goodResponse(key, "Sec-WebSocket-Protocol: b\r\nX-Ray: 1\r\n") + "\x81\x02hi"
	// Incomplete at every cut before the end of the head.
	head := strings.Index(full, "\r\n\r\n") + 4
	for cut := range head {
		resp, n, ok, err := wsproto.ParseResponse([]byte(full[:cut]), req)
		if resp != nil || n != 0 || ok || err != nil {
			t.Fatalf("cut %d: got %v %d %v %v, want incomplete", cut, resp, n, ok, err)
		}
	}
	resp, n, ok, err := wsproto.ParseResponse([]byte(full), req)
	if err != nil || !ok {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if n != head || full[n:] != "\x81\x02hi" {
		t.Fatalf("n=%d, want %d (the frame bytes after it)", n, head)
	}
	if resp.Status != 101 || resp.Subprotocol != "b" || resp.Header.Get("X-Ray") != "1" || resp.Extensions != "" {
		t.Fatalf("resp %+v", resp)
	}
}

func TestParseResponseErrors(t *testing.T) {
	key := wsproto.NewKey()
	req := &wsproto.Request{Key: key, Subprotocols: []string{"ipcord.v1"}}
	accept := wsproto.AcceptKey(key)
	tests := []struct {
		name, resp, msg string
	}{
		{"wrong accept", goodResponse("AAAAAAAAAAAAAAAAAAAAAA==", ""), "Sec-WebSocket-Accept"},
		{"no upgrade", "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n", "Upgrade"},
		{"no connection", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n", "Connection"},
		{"subprotocol not offered", goodResponse(key, "Sec-WebSocket-Protocol: chat\r\n"), "not offered"},
		{"two subprotocols", goodResponse(key, "Sec-WebSocket-Protocol: ipcord.v1\r\nSec-WebSocket-Protocol: ipcord.v1\r\n"), "more than one"},
		{"extension not offered", goodResponse(key, "Sec-WebSocket-Extensions: permessage-deflate\r\n"), "extensions"},
		{"garbage status", "SSH-2.0-OpenSSH\r\n\r\n", "status line"},
		{"bad status code", "HTTP/1.1 1x1 Switching\r\n\r\n", "status line"},
		{"bad header", "HTTP/1.1 101 Switching Protocols\r\nno colon here\r\n\r\n", "header line"},
		{"head too big", "HTTP/1.1 101 Switching Protocols\r\nX-Big: " + strings.Repeat("b", 16<<10) + "\r\n\r\n", "exceeds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, ok, err := wsproto.ParseResponse([]byte(tt.resp), req)
			if ok || !errors.Is(err, wsproto.ErrHandshake) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("ok=%v err=%v, want ErrHandshake mentioning %q", ok, err, tt.msg)
			}
		})
	}
}

func TestParseResponseRefusal(t *testing.T) {
	req := &wsproto.Request{Key: wsproto.NewKey()}
	full := "HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nWww-Authenticate: Bearer\r\n\r\nbad secret\r\n"
	// The body is awaited when its length is announced.
	if _, _, ok, err := wsproto.ParseResponse([]byte(full[:len(full)-3]), req); ok || err != nil {
		t.Fatalf("partial body: ok=%v err=%v, want incomplete", ok, err)
	}
	resp, n, _, err := wsproto.ParseResponse([]byte(full+"extra"), req)
	var he *wsproto.HandshakeError
	if !errors.As(err, &he) || !errors.Is(err, wsproto.ErrHandshake) {
		t.Fatalf("err = %v, want a *HandshakeError", err)
	}
	if he.Status != 401 || string(he.Body) != "bad secret\r\n" || he.Header.Get("Www-Authenticate") != "Bearer" {
		t.Fatalf("HandshakeError %+v", he)
	}
	if resp == nil || resp.Status != 401 || n != len(full) {
		t.Fatalf("resp %+v n=%d, want status 401 and n=%d", resp, n, len(full))
	}
	// Without Content-Length, the body is what is there.
	_, _, _, err = wsproto.ParseResponse([]byte("HTTP/1.1 503 Service Unavailable\r\n\r\nbusy"), req)
	if !errors.As(err, &he) || he.Status != 503 || string(he.Body) != "busy" {
		t.Fatalf("err = %v", err)
	}
}

func upgradeRequest() *http.Request {
	r := httptest.NewRequest("GET", "/ws", nil)
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Connection", "keep-alive, Upgrade")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	return r
}

func TestCheckRequest(t *testing.T) {
	key, err := wsproto.CheckRequest(upgradeRequest())
	if err != nil || key != "dGhlIHNhbXBsZSBub25jZQ==" {
		t.Fatalf("key=%q err=%v", key, err)
	}
	r := upgradeRequest()
	r.Header.Set("Upgrade", "WebSocket")
	r.Header.Set("Connection", "UPGRADE")
	if _, err := wsproto.CheckRequest(r); err != nil {
		t.Fatalf("tokens are case-insensitive: %v", err)
	}

	tests := []struct {
		name   string
		change func(r *http.Request)
		status int
	}{
		{"POST", func(r *http.Request) { r.Method = "POST" }, 400},
		{"HTTP/1.0", func(r *http.Request) { r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.0", 1, 0 }, 400},
		{"no Upgrade", func(r *http.Request) { r.Header.Del("Upgrade") }, 400},
		{"Upgrade: h2c", func(r *http.Request) { r.Header.Set("Upgrade", "h2c") }, 400},
		{"no Connection upgrade", func(r *http.Request) { r.Header.Set("Connection", "keep-alive") }, 400},
		{"version 8", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") }, 426},
		{"no version", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Version") }, 426},
		{"no key", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") }, 400},
		{"short key", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "c2hvcnQ=") }, 400},
		{"key not base64", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "!!!!!!!!!!!!!!!!!!!!!!==") }, 400},
		{"two keys", func(r *http.Request) { r.Header.Add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") }, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := upgradeRequest()
			tt.change(r)
			_, err := wsproto.CheckRequest(r)
			var he *wsproto.HandshakeError
			if !errors.As(err, &he) || he.Status != tt.status || !errors.Is(err, wsproto.ErrHandshake) {
				t.Fatalf("err = %v, want a HandshakeError with status %d", err, tt.status)
			}
			rec := httptest.NewRecorder()
			wsproto.Refuse(rec, err)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), he.Reason) {
				t.Fatalf("Respond wrote %d %q", rec.Code, rec.Body.String())
			}
			if tt.status == 426 && rec.Header().Get("Sec-WebSocket-Version") != "13" {
				t.Fatalf("426 without Sec-WebSocket-Version: 13: %v", rec.Header())
			}
		})
	}
}

func TestSubprotocols(t *testing.T) {
	r := upgradeRequest()
	r.Header.Add("Sec-WebSocket-Protocol", " ipcord.v1 ,chat,, ")
	r.Header.Add("Sec-WebSocket-Protocol", "zonis")
	if got, want := wsproto.Subprotocols(r), []string{"ipcord.v1", "chat", "zonis"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Subprotocols = %q, want %q", got, want)
	}
	if got := wsproto.Subprotocols(upgradeRequest()); len(got) != 0 {
		t.Fatalf("no header: %q", got)
	}
}

func TestAppendResponseParses(t *testing.T) {
	key := wsproto.NewKey()
	out := wsproto.AppendResponse(nil, key, "ipcord.v1", "", http.Header{"X-Server": {"ipcord"}, "Upgrade": {"nope"}})
	want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + wsproto.AcceptKey(key) + "\r\nSec-WebSocket-Protocol: ipcord.v1\r\nX-Server: ipcord\r\n\r\n"
	if string(out) != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
	resp, n, ok, err := wsproto.ParseResponse(out, &wsproto.Request{Key: key, Subprotocols: []string{"ipcord.v1"}})
	if !ok || err != nil || n != len(out) || resp.Subprotocol != "ipcord.v1" {
		t.Fatalf("ParseResponse of our own reply: %+v %d %v %v", resp, n, ok, err)
	}
}

func TestRefuseOtherError(t *testing.T) {
	rec := httptest.NewRecorder()
	wsproto.Refuse(rec, errors.New("boom"))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("Refuse wrote %d %q", rec.Code, rec.Body.String())
	}
}

// A ResponseWriter that cannot be hijacked (like HTTP/2's) gets a 500 from
// Accept rather than an empty answer.
func TestAcceptWithoutHijack(t *testing.T) {
	rec := httptest.NewRecorder()
	if _, _, err := wsproto.Accept(rec, "dGhlIHNhbXBsZSBub25jZQ==", "", ""); !errors.Is(err, wsproto.ErrHandshake) {
		t.Fatalf("Accept on a recorder: %v, want ErrHandshake", err)
	}
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("answered %d, want 500", rec.Code)
	}
}
