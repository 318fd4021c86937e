// Package interactions serves the HTTP endpoint Discord POSTs interactions
// to: it verifies each request, answers PING, routes commands, components,
// autocomplete and modal submits to listeners, and keeps Discord's
// 3-second deadline for them.
//
// # One registry, every transport
//
// The same listeners serve an interaction however it arrives: over HTTP
// (ServeHTTP, Handle), as INTERACTION_CREATE from a shard (Deliver, which
// answers through the callback route as Discord requires for the
// gateway, and counts the deadline from when the shard read the event:
// shard.Event.Received), or forwarded by another process's endpoint (Deliver again,
// with the arrival carried over). The deadline keeping and the late delivery below are the same for all.
//
// Listeners are registered per command, custom ID or custom ID prefix,
// with a catch-all per interaction type behind them (Listen); Remove and
// Lookup take a Key. A second registration for the same key fails with
// ErrDuplicate unless made with Replace, as hikari's set_listener.
// An interaction of a type this package does not know is answered 501.
// Define registers a listener together with its command's definition, so
// Commands lists what to register with Discord (rest.Client's
// OverwriteCommands, or `ipcord commands sync`).
//
// Bots built with another library can use the checks alone: Verify wraps
// their handler.
//
// # Checks
//
// A request is checked cheapest first, and a request that fails a check
// never reaches a listener:
//
//	method POST                                   else 405
//	Content-Type application/json                 else 415
//	X-Signature-Ed25519 (128 hex) and
//	X-Signature-Timestamp (Unix seconds) present  else 401
//	timestamp within Config.ReplayWindow of now   else 401
//	public key known (when fetched at start)      else 503
//	body within Config.MaxBodyBytes               else 413
//	Ed25519 signature over timestamp+body         else 401
//	body is an interaction                        else 400
//	interaction type known                        else 501, as hikari
//
// The body is read through a limiter and never sized from Content-Length,
// so a forged length costs nothing. Every 401 has the same body, and
// failures log at debug level only: Discord sends bad signatures on purpose
// to test an endpoint.
//
// The replay window compares the request's timestamp with this machine's
// clock. It fails closed: if the clock is off by more than the window,
// every request is refused with 401, so keep the clock synchronised (NTP)
// or widen the window.
//
// # Deadlines
//
// Time is counted from the request's arrival on the monotonic clock. A
// listener that has not answered by Config.DeferAfter (default 2 s) is
// deferred for it — a command or modal submit with a deferred message
// (type 5, ephemeral when the listener was registered with Ephemeral), a
// component with a deferred update (type 6) — and its answer is delivered
// when it comes: a message after type 5, or an update after type 6, edits
// @original; a message after type 6 becomes a follow-up; a modal or an
// autocomplete result after a defer is logged as ErrTooLate. Autocomplete
// is never deferred: at the deadline it answers no choices.
//
// Listeners run on a context detached from the HTTP request whose deadline
// is 14 minutes after arrival, within the 15 minutes the interaction token
// works for follow-ups: Event.Go runs work once the first response has
// reached Discord, where Event.Followup and Event.EditOriginal can be
// called. Shutdown waits for running listeners and such work until its
// context ends, then cancels them.
//
// # Responses
//
// Responses are built with Reply, Update, DeferReply, DeferUpdate, Choices
// and Modal; Validate checks Discord's limits before anything is sent.
// Files travel as multipart/form-data; when they exceed
// Config.InlineFileLimit (default 100 KB, above which Discord rejects
// inline replies) the reply is deferred and the files are uploaded by
// editing @original. With Config.Respond202 every response is POSTed to
// the callback route and the HTTP request is answered 202.
package interactions
