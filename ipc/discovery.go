package ipc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipcord/ipcord/internal/wsproto"
)

// DiscoveryPath is where a Discovery answers the native listing request.
const DiscoveryPath = "/ipcord/servers"

// Discovery is a listener that tells dashboards where this process's
// Servers are: the Python libraries' "multicast" port (default 20000; it is
// not IP multicast). It answers
//
//   - GET /ipcord/servers with "Authorization: Bearer <secret>": the JSON
//     list {"servers":[{"name":...,"url":...}]} (see Discover);
//   - over WebSocket, discord-ext-ipc's handshake {"connect": true,
//     "headers": {"Authorization": "<secret>"}} with the port of the
//     default server, or a 403 object.
//
// Servers join a Discovery explicitly with Add rather than through a
// registry of the process: no global state, several Discoveries (or none)
// in one process, and tests that do not see each other's servers. The
// default server is the one named by Default, else the first added.
//
// Set the fields before serving and do not change them after.
type Discovery struct {
	// Secret is what clients must present. Empty: the default server's
	// Secret; both empty accepts everyone.
	Secret string
	// Default names the server that ext-ipc handshakes (and, later,
	// better-ipc multicast calls) reach. Default: the first added.
	Default string
	// TLS serves https:// and wss:// from Serve and ListenAndServe.
	TLS TLS
	// HandshakeTimeout bounds the time from a WebSocket upgrade to its
	// first message. Default 10 s.
	HandshakeTimeout time.Duration
	// MaxHandshakes bounds connections not yet past their first message;
	// past it, upgrades are refused with 503. Default 128.
	MaxHandshakes int
	// Logger receives diagnostics. Nil logs nothing.
	Logger *slog.Logger

	initOnce sync.Once
	cfg      connConfig
	slots    chan struct{}

	mu      sync.Mutex
	entries []discoveryEntry
	closing bool
	servers []*http.Server
	conns   map[*conn]struct{}
}

type discoveryEntry struct {
	name string
	url  string // fixed by AddURL; "" follows srv.URL()
	srv  *Server
}

// ServerInfo is one server in a discovery listing.
type ServerInfo struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// ErrDuplicateServer: a server name added twice to a Discovery.
var ErrDuplicateServer = errors.New("ipc: server name already in discovery")

func (d *Discovery) init() {
	d.initOnce.Do(func() {
		d.cfg = connConfig{
			logger:       orDiscard(d.Logger),
			maxMessage:   1 << 20,
			writeTimeout: 10 * time.Second,
			router:       NewRouter(),
		}
		d.slots = make(chan struct{}, orDefault(d.MaxHandshakes, 128))
		d.conns = make(map[*conn]struct{})
	})
}

// Add lists s under its Name, at the URL of the first listener it serves
// on (Server.URL), looked up at each request: a server not serving yet is
// left out of listings until it is.
func (d *Discovery) Add(s *Server) error { return d.add(s, "") }

// AddURL lists s at a fixed URL: for a Server mounted on another
// http.Server, or reached through a proxy.
func (d *Discovery) AddURL(s *Server, url string) error { return d.add(s, url) }

func (d *Discovery) add(s *Server, url string) error {
	d.init()
	d.mu.Lock()
	defer d.mu.Unlock()
	name := s.name()
	if slices.ContainsFunc(d.entries, func(e discoveryEntry) bool { return e.name == name }) {
		return fmt.Errorf("%w: %q", ErrDuplicateServer, name)
	}
	d.entries = append(d.entries, discoveryEntry{name: name, url: url, srv: s})
	return nil
}

// Servers returns the servers listed now, in the order they were added.
func (d *Discovery) Servers() []ServerInfo {
	d.init()
	d.mu.Lock()
	entries := slices.Clone(d.entries)
	d.mu.Unlock()
	out := []ServerInfo{}
	for _, e := range entries {
		if u := e.currentURL(); u != "" {
			out = append(out, ServerInfo{Name: e.name, URL: u})
		}
	}
	return out
}

func (e discoveryEntry) currentURL() string {
	if e.url != "" {
		return e.url
	}
	return e.srv.URL()
}

// defaultEntry returns the default server, or false when there is none.
func (d *Discovery) defaultEntry() (discoveryEntry, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.entries {
		if e.name == d.Default {
			return e, true
		}
	}
	if d.Default == "" && len(d.entries) > 0 {
		return d.entries[0], true
	}
	return discoveryEntry{}, false
}

// secretOK compares a presented secret with Secret (or the default
// server's) in constant time.
func (d *Discovery) secretOK(got string) bool {
	want := d.Secret
	if want == "" {
		if e, ok := d.defaultEntry(); ok {
			want = e.srv.Secret
		}
	}
	if want == "" {
		return true
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// ServeHTTP answers the listing request and the WebSocket handshake.
func (d *Discovery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.init()
	if isUpgrade(r) {
		d.serveWebSocket(w, r)
		return
	}
	if r.URL.Path != DiscoveryPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !d.secretOK(tok) {
		d.cfg.logger.Debug("ipc: discovery refused: bad secret", "remote", r.RemoteAddr)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	list := d.Servers()
	for i := range list {
		list[i].URL = reachableURL(list[i].URL, r.Host)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Servers []ServerInfo `json:"servers"`
	}{list})
}

// reachableURL replaces an unspecified host (a server listening on
// 0.0.0.0 or [::]) with the host the client reached discovery by, which
// reaches the server too, since both run in this process.
func reachableURL(raw, reqHost string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsUnspecified() {
		return raw
	}
	host, _, err := net.SplitHostPort(reqHost)
	if err != nil {
		host = reqHost
	}
	if host == "" {
		return raw
	}
	u.Host = net.JoinHostPort(strings.Trim(host, "[]"), u.Port())
	return u.String()
}

// closeTryAgainLater is the IANA-registered close code 1013.
const closeTryAgainLater = 1013

// isUpgrade reports whether r asks for a WebSocket upgrade, as opposed to
// the plain GET of the listing.
func isUpgrade(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "websocket") {
				return true
			}
		}
	}
	return false
}

// The ext-ipc handshake replies, exactly as discord-ext-ipc's server
// sends them.
var (
	extIPCForbidden = []byte(`{"error": "Invalid or no token provided.", "code": 403}`)
	extIPCNoServer  = []byte(`{"error": "No server is serving yet.", "code": 503}`)
)

// extIPCConnect is discord-ext-ipc's discovery handshake.
type extIPCConnect struct {
	Connect  bool            `json:"connect"`
	Endpoint json.RawMessage `json:"endpoint"`
	Headers  struct {
		Authorization *string `json:"Authorization"`
	} `json:"headers"`
}

// parseConnect reports whether payload is a discovery handshake: an object
// with "connect": true and no endpoint (a route call is never one).
func parseConnect(payload []byte) (extIPCConnect, bool) {
	var m extIPCConnect
	if err := json.Unmarshal(payload, &m); err != nil || !m.Connect || m.Endpoint != nil {
		return m, false
	}
	return m, true
}

func (d *Discovery) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if d.isClosing() {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	nc, buffered, release, ok := upgrade(w, r, d.slots, "", "")
	if !ok {
		return
	}
	c := newConn(&d.cfg, nc, wsproto.Server)
	c.dec.Feed(buffered)
	if !d.track(c) {
		release()
		c.close(int(wsproto.CloseGoingAway), "shutting down")
		return
	}
	c.onClose = func() { d.untrack(c) }

	// Never ping and never time out an idle connection: discord-ext-ipc
	// keeps this one open and mishandles both. Only the first message is
	// awaited under a deadline.
	m, err := c.firstMessage(orDefault(d.HandshakeTimeout, 10*time.Second), release)
	for ; err == nil; m, err = c.readMessage() {
		hs, ok := parseConnect(m.Payload)
		if m.Op != wsproto.OpText || !ok {
			d.serveOther(c, m)
			return
		}
		auth := "" // ext-ipc sends null when its client has no secret
		if hs.Headers.Authorization != nil {
			auth = *hs.Headers.Authorization
		}
		if !d.secretOK(auth) {
			// An unauthenticated connection may not stay open: answer as
			// ext-ipc does, then close.
			c.writeFrame(extIPCForbidden)
			c.close(int(wsproto.ClosePolicyViolation), "invalid secret")
			return
		}
		port, ok := d.defaultPort()
		if !ok {
			c.writeFrame(extIPCNoServer)
			c.close(closeTryAgainLater, "no server yet")
			return
		}
		c.writeFrame([]byte(`{"message": "Connection success", "port": ` + strconv.Itoa(port) + `, "code": 200}`))
	}
	c.fail(err)
}

// serveOther receives a connection whose message m is not a discovery
// handshake: better-ipc's "multicast" mode sends its route calls to this
// port, and the default server answers them (DESIGN.md), on this
// connection, which d still tracks and closes on Shutdown. Anything else is
// refused with 1008; no discovery reply is ever sent after a non-handshake
// message, so none can be taken for a route's result.
func (d *Discovery) serveOther(c *conn, m wsproto.Message) {
	if e, ok := d.defaultEntry(); ok && m.Op == wsproto.OpText && e.srv.serveMulticast(c, m.Payload) {
		return
	}
	c.close(int(wsproto.ClosePolicyViolation), "this is a discovery port: send {\"connect\": true, ...}")
}

// defaultPort is the TCP port of the default server's URL.
func (d *Discovery) defaultPort() (int, bool) {
	e, ok := d.defaultEntry()
	if !ok {
		return 0, false
	}
	u, err := url.Parse(e.currentURL())
	if err != nil || u.Port() == "" {
		return 0, false
	}
	port, err := strconv.Atoi(u.Port())
	return port, err == nil
}

func (d *Discovery) track(c *conn) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		return false
	}
	d.conns[c] = struct{}{}
	return true
}

func (d *Discovery) untrack(c *conn) {
	d.mu.Lock()
	delete(d.conns, c)
	d.mu.Unlock()
}

func (d *Discovery) isClosing() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closing
}

// Serve answers discovery requests on ln until Shutdown, over TLS when TLS
// is set. It returns ErrClosed after Shutdown, or the listener's error.
func (d *Discovery) Serve(ln net.Listener) error {
	d.init()
	return serveHTTP(ln, d, d.TLS, orDefault(d.HandshakeTimeout, 10*time.Second), d.cfg.logger, func(hs *http.Server, _ string) bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.closing {
			return false
		}
		d.servers = append(d.servers, hs)
		return true
	})
}

// ListenAndServe listens on addr (host:port) and serves, like Serve.
func (d *Discovery) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return d.Serve(ln)
}

// Shutdown stops the listeners and closes the open WebSocket connections
// with 1001, waiting for their close handshakes until ctx ends.
func (d *Discovery) Shutdown(ctx context.Context) error {
	d.init()
	d.mu.Lock()
	d.closing = true
	servers := d.servers
	conns := slices.Collect(maps.Keys(d.conns))
	d.mu.Unlock()
	var err error
	for _, hs := range servers {
		if e := hs.Shutdown(ctx); e != nil && err == nil {
			err = e
		}
	}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.close(int(wsproto.CloseGoingAway), "discovery shutting down") })
	}
	wg.Wait()
	return err
}
