package ipc

import (
	"context"
	"encoding/json"
	"fmt"
)

// ForwardRoute is the route name a Forwarder is registered under by
// convention (`ipcord serve` does; `ipcord call --client` calls it).
const ForwardRoute = "ipcord.forward"

// ForwardArgs are the arguments of a call to a Forwarder: which connected
// client to call, and the call itself.
type ForwardArgs struct {
	Client string          `json:"client"`
	Route  string          `json:"route"`
	Args   json.RawMessage `json:"args,omitempty"`
}

// Forwarder returns a Handler that passes a call on to one of s's
// connected clients (native or Zonis) and returns its result, so a tool
// connected to a dashboard's server reaches a bot connected to the same
// server. The forwarded call runs under the caller's deadline; the
// client's errors come back with their codes. Register it explicitly: it
// lets anyone holding the secret call every client's routes.
func Forwarder(s *Server) Handler {
	return HandlerFunc(func(ctx context.Context, req *Request) (any, error) {
		var a ForwardArgs
		if err := unmarshal(req.Args, &a); err != nil || a.Client == "" || a.Route == "" {
			return nil, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("%s takes {\"client\": ID, \"route\": NAME, \"args\": ...}", ForwardRoute)}
		}
		var out json.RawMessage
		if err := s.Call(ctx, a.Client, a.Route, a.Args, &out); err != nil {
			return nil, err
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	})
}
