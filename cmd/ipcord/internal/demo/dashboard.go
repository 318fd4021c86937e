package demo

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ipcord/ipcord/ipc"
)

//go:embed web
var webFiles embed.FS

// Dashboard is the demo's operator console: an http.Handler that serves a
// page and a small JSON API, answering each request by calling the bot's
// routes over IPC — exactly as a dashboard in a process of its own would —
// and, with fake Discord, its control API over HTTP.
//
//	GET  /                 the page (charts, shards, routes, errors, events, forms)
//	GET  /api/config       what this dashboard can do: {"fake": true|false}
//	GET  /api/stats        the bot's stats route (Server-Timing: ipc;dur=MS)
//	GET  /api/guilds       the bot's guilds route
//	GET  /api/events?after=N  the bot's events route
//	POST /api/send         send_message, from a form or a JSON body
//	POST /api/say          {"channel_id","content"}: a sample user types it (fake only)
//	POST /api/fault        {"name","shard"}: inject one of Faults (fake only)
//	POST /api/deploy       the bot's deploy route: a new generation takes every shard by handoff
type Dashboard struct {
	// Bot calls the bot's routes: an *ipc.Client dialed to its IPC server.
	Bot ipc.Caller
	// Fake is fake Discord's base URL (its control API is Fake+"/_fake/"),
	// empty with real Discord; FakeToken is its control token, if any.
	Fake, FakeToken string
	// Client calls the fake's control API; nil means a client with a 10 s
	// timeout.
	Client *http.Client
	// CallTimeout bounds each call to the bot (default 5 s).
	CallTimeout time.Duration
	// Logger receives failed calls at debug level; nil is silent.
	Logger *slog.Logger

	once    sync.Once
	handler http.Handler
}

// ServeHTTP implements http.Handler.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.once.Do(func() { d.handler = d.mux() })
	d.handler.ServeHTTP(w, r)
}

// Faults are the console's fault buttons, in order: the faults a visitor
// can watch the bot recover from (consoleFaults says what each asks of the
// fake).
var Faults = []string{"reconnect", "zombie", "invalid_session", "cut_mid_frame"}

// consoleFaults are what each of Faults asks of the fake's control API. A
// zombie connection reads nothing at all, ACKs included; without held
// frames the dispatches still flowing would keep it alive.
var consoleFaults = map[string][]FaultRequest{
	"reconnect":       {{Name: "reconnect"}},
	"zombie":          {{Name: "stop_heartbeat_acks"}, {Name: "delay_frames", MS: 120_000}},
	"invalid_session": {{Name: "invalid_session"}},
	"cut_mid_frame":   {{Name: "cut_mid_frame"}},
}

// mux lists every route of the console in one place; a new panel's API
// goes here and its drawing in web/app.js's panels.
func (d *Dashboard) mux() *http.ServeMux {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFiles, "web")
	mux.Handle("GET /", http.FileServerFS(static))
	mux.HandleFunc("GET /api/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"fake": d.Fake != "", "faults": Faults})
	})
	mux.HandleFunc("POST /api/say", d.say)
	mux.HandleFunc("POST /api/fault", d.fault)
	mux.HandleFunc("GET /api/stats", d.proxy(RouteStats, nil))
	mux.HandleFunc("GET /api/guilds", d.proxy(RouteGuilds, nil))
	mux.HandleFunc("GET /api/events", d.proxy(RouteEvents, func(r *http.Request) (any, error) {
		after, err := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		if r.URL.Query().Get("after") == "" {
			after, err = 0, nil
		}
		if err != nil || after < 0 {
			return nil, errors.New("after must be a non-negative integer")
		}
		return EventsArgs{After: after}, nil
	}))
	mux.HandleFunc("POST /api/send", d.send)
	mux.HandleFunc("POST /api/deploy", d.deploy)
	return mux
}

// proxy answers a GET with the result of one route call.
func (d *Dashboard) proxy(route string, args func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var a any
		if args != nil {
			var err error
			if a, err = args(r); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
				return
			}
		}
		var out json.RawMessage
		start := time.Now()
		if err := d.call(r.Context(), route, a, &out); err != nil {
			d.fail(w, route, err)
			return
		}
		// The call's round trip, for the page's IPC latency chart.
		w.Header().Set("Server-Timing", fmt.Sprintf("ipc;dur=%.3f", float64(time.Since(start).Microseconds())/1000))
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, out)
	}
}

func (d *Dashboard) call(ctx context.Context, route string, args, out any) error {
	if d.Bot == nil {
		return ipc.ErrNotConnected
	}
	t := d.CallTimeout
	if t <= 0 {
		t = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	return d.Bot.Call(ctx, route, args, out)
}

// deploy starts a deploy of the bot: its deploy route answers at once,
// and the stats route's "deploy" follows the shards as they move.
func (d *Dashboard) deploy(w http.ResponseWriter, r *http.Request) {
	var out json.RawMessage
	if err := d.call(r.Context(), RouteDeploy, nil, &out); err != nil {
		d.fail(w, RouteDeploy, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// fail answers a failed call: the bot's own errors (a bad channel) are the
// user's to fix (422); anything else means the bot is unreachable (502).
func (d *Dashboard) fail(w http.ResponseWriter, route string, err error) {
	if d.Logger != nil {
		d.Logger.Debug("demo: dashboard call failed", "route", route, "err", err)
	}
	var ie *ipc.Error
	status := http.StatusBadGateway
	body := map[string]string{"error": err.Error()}
	if errors.As(err, &ie) {
		body["code"] = ie.Code
		switch ie.Code {
		case CodeBadChannel, CodeBadContent:
			status = http.StatusUnprocessableEntity
		case CodeDeploying:
			status = http.StatusConflict
		}
	}
	writeJSON(w, status, body)
}

// send calls send_message with a form (the page without JavaScript, which
// is redirected back to the page) or a JSON body.
func (d *Dashboard) send(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	var a SendMessageArgs
	isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
	if isJSON {
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body is not a JSON object: " + err.Error()})
			return
		}
	} else {
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		a = SendMessageArgs{ChannelID: r.PostForm.Get("channel_id"), Content: r.PostForm.Get("content")}
	}
	var m SentMessage
	if err := d.call(r.Context(), RouteSendMessage, a, &m); err != nil {
		d.fail(w, RouteSendMessage, err)
		return
	}
	if !isJSON {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, m)
}
