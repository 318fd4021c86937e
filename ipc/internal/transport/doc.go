// Package transport holds what every transport of package ipc shares and
// nothing outside ipc's tree should see: the context a handler runs under
// (Context, Group), running a handler with hooks, panic recovery and
// result encoding (Serve), encoding a call's args (EncodeArgs), the error
// a caller gets when its context ends (ContextError), the route name
// rule (ValidName), and what decides whether a handler runs on the
// goroutine that read its request (RouteStats).
//
// ipc's own transports (the native protocol, the Python dialects) and
// ipc/natsipc both use it, so a route behaves alike over each. It lives
// under ipc/internal because it is plumbing: exported from ipc it would
// widen the API every user reads. Its functions are generic over
// ipc.Request and ipc.Error because ipc imports this package and so this
// package cannot name them; the instantiations are checked at compile time.
package transport
