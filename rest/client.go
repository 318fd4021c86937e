package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultBaseURL is Discord's API root, version 10.
const DefaultBaseURL = "https://discord.com/api/v10"

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// maxResponseBody bounds how much of a successful answer is read.
const maxResponseBody = 8 << 20

// Client calls Discord's REST API. The zero value works for the routes that
// need no token (interaction callbacks and webhooks); set Token for the
// others. A Client is safe for concurrent use; do not change its fields
// after the first call.
type Client struct {
	// Token is the bot token, sent as "Authorization: Bot <Token>".
	Token string
	// BaseURL overrides DefaultBaseURL (a discordtest.Server's URL in tests).
	BaseURL string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// UserAgent defaults to one naming ipcord, as Discord asks.
	UserAgent string
	// MaxRetries is how many times a 429 is waited out and retried; 0
	// means 3, negative means never.
	MaxRetries int
	// GlobalLimit is how many requests needing the bot token may start per
	// second (Discord's global limit is 50 for most bots); 0 means 50,
	// negative means no client-side limit. Interaction callbacks and
	// webhooks are exempt, as Discord exempts them.
	GlobalLimit int
	// Logger receives rate-limit waits at debug level; nil is silent.
	Logger *slog.Logger

	once    sync.Once
	limiter *limiter
}

var defaultHTTPClient = &http.Client{Timeout: 30 * time.Second}

func (c *Client) init() {
	c.once.Do(func() {
		c.limiter = newLimiter()
		switch {
		case c.GlobalLimit == 0:
			c.limiter.perSecond = 50
		case c.GlobalLimit > 0:
			c.limiter.perSecond = c.GlobalLimit
		}
	})
}

func (c *Client) baseURL() string {
	if c.BaseURL != "" {
		return strings.TrimSuffix(c.BaseURL, "/")
	}
	return DefaultBaseURL
}

// request is one call: the route template keys the rate-limit bucket, the
// major parameter separates buckets of the same route.
type request struct {
	method string
	route  string // e.g. "/webhooks/{application.id}/{interaction.token}"
	major  string
	path   string // the real path
	query  string
	auth   bool
	body   any
	files  []File
}

// do sends r, waiting for rate limits and retrying 429s, and decodes a 2xx
// JSON answer into out (unless out is nil).
func (c *Client) do(ctx context.Context, r *request, out any) error {
	c.init()
	if r.auth && c.Token == "" {
		return ErrNoToken
	}
	contentType, body, err := encodeBody(r.body, r.files)
	if err != nil {
		return err
	}
	retries := c.MaxRetries
	if retries == 0 {
		retries = 3
	}
	b := c.limiter.bucket(r.method+" "+r.route, r.major)
	for attempt := 0; ; attempt++ {
		if r.auth {
			if err := c.limiter.global(ctx); err != nil {
				return err
			}
		}
		release, err := c.limiter.acquire(ctx, b)
		if err != nil {
			return err
		}
		resp, err := c.send(ctx, r, contentType, body)
		if err != nil {
			release()
			return err
		}
		b = c.limiter.update(r.method+" "+r.route, r.major, b, resp.Header)
		if resp.StatusCode == http.StatusTooManyRequests {
			apiErr := readError(r, resp)
			c.limiter.limited(b, apiErr, resp.Header)
			release()
			if attempt >= retries || !fits(ctx, apiErr.RetryAfter) {
				return apiErr
			}
			if c.Logger != nil {
				c.Logger.Debug("rest: rate limited, retrying", "route", r.route, "retry_after", apiErr.RetryAfter, "global", apiErr.Global)
			}
			continue
		}
		release()
		defer resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return readError(r, resp)
		}
		if out == nil || resp.StatusCode == http.StatusNoContent {
			io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
			return nil
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
		if err != nil {
			return fmt.Errorf("rest: %s %s: read answer: %w", r.method, r.route, err)
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%w: %s %s: %w", ErrBadResponse, r.method, r.route, err)
		}
		return nil
	}
}

// fits reports whether waiting d leaves the context alive.
func fits(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d
}

func encodeBody(body any, files []File) (contentType string, data []byte, err error) {
	if len(files) > 0 {
		return EncodeMultipart(body, files)
	}
	if body == nil {
		return "", nil, nil
	}
	data, err = json.Marshal(body)
	if err != nil {
		return "", nil, fmt.Errorf("rest: encode body: %w", err)
	}
	return "application/json", data, nil
}

func (c *Client) send(ctx context.Context, r *request, contentType string, body []byte) (*http.Response, error) {
	url := c.baseURL() + r.path
	if r.query != "" {
		url += "?" + r.query
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, url, rd)
	if err != nil {
		return nil, fmt.Errorf("rest: %s %s: %w", r.method, r.route, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.auth {
		req.Header.Set("Authorization", "Bot "+c.Token)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "DiscordBot (https://github.com/ipcord/ipcord, 0.1)"
	}
	req.Header.Set("User-Agent", ua)
	hc := c.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL holds the interaction token; report the route instead.
		return nil, fmt.Errorf("rest: %s %s: %w", r.method, r.route, unwrapURLError(err))
	}
	return resp, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(interface{ Unwrap() error }); ok {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// readError turns a non-2xx answer into an *Error and closes the body.
func readError(r *request, resp *http.Response) *Error {
	defer resp.Body.Close()
	e := &Error{Method: r.method, Route: r.route, Status: resp.StatusCode, Message: http.StatusText(resp.StatusCode)}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var eb errorBody
	if json.Unmarshal(data, &eb) == nil {
		e.Code, e.Errors, e.Global = eb.Code, eb.Errors, eb.Global
		if eb.Message != "" {
			e.Message = eb.Message
		}
		if eb.RetryAfter > 0 {
			e.RetryAfter = seconds(eb.RetryAfter)
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		if e.RetryAfter == 0 {
			if f, err := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64); err == nil {
				e.RetryAfter = seconds(f)
			}
		}
		if resp.Header.Get("X-RateLimit-Global") == "true" || resp.Header.Get("X-RateLimit-Scope") == "global" {
			e.Global = true
		}
	}
	return e
}

// seconds converts Discord's float seconds, treating nonsense (negative,
// NaN, over a day) as 0 so a bad header cannot stall or corrupt a wait.
func seconds(f float64) time.Duration {
	if !(f >= 0 && f <= 24*3600) {
		return 0
	}
	return time.Duration(f * float64(time.Second))
}
