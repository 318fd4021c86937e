package transport

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

type request struct{ Route string }

type testError struct{ Code, Message string }

func (e *testError) Error() string { return e.Code + ": " + e.Message }

type handlerFunc func(ctx context.Context, req *request) (any, error)

func (f handlerFunc) ServeIPC(ctx context.Context, req *request) (any, error) { return f(ctx, req) }

func TestServe(t *testing.T) {
	req := &request{Route: "r"}
	var order []string
	hooks := &Hooks[request]{
		OnRequest:  func(context.Context, *request) { order = append(order, "request") },
		OnError:    func(context.Context, *request, error) { order = append(order, "error") },
		OnComplete: func(context.Context, *request, time.Duration, error) { order = append(order, "complete") },
	}
	seen := handlerFunc(func(ctx context.Context, r *request) (any, error) {
		if got, _ := ctx.Value(RequestKey{}).(*request); got != req {
			t.Errorf("the handler's context carries %p, want %p", got, req)
		}
		return json.RawMessage(`{"a":1}`), nil
	})
	data, err := Serve[request, testError](context.Background(), seen, req, req.Route, "", hooks, nil, nil)
	if err != nil || string(data) != `{"a":1}` {
		t.Fatalf("Serve = %s, %v", data, err)
	}
	if len(order) != 2 || order[0] != "request" || order[1] != "complete" {
		t.Fatalf("hooks ran %v", order)
	}
	for name, h := range map[string]handlerFunc{
		CodeEncodeError:  func(context.Context, *request) (any, error) { return json.RawMessage(`{`), nil },
		CodeHandlerError: func(context.Context, *request) (any, error) { panic("boom") },
	} {
		order = nil
		_, err := Serve[request, testError](context.Background(), h, req, req.Route, "", hooks, nil, nil)
		var te *testError
		if !errors.As(err, &te) || te.Code != name {
			t.Errorf("%s: got %v", name, err)
		}
		if len(order) != 3 || order[1] != "error" {
			t.Errorf("%s: hooks ran %v", name, order)
		}
	}
}

func TestEncodeArgs(t *testing.T) {
	for _, tt := range []struct {
		args any
		want string
		code string
	}{
		{nil, "", ""},
		{json.RawMessage(nil), "", ""},
		{json.RawMessage(`[1]`), "[1]", ""},
		{json.RawMessage(`[1`), "", CodeBadRequest},
		{map[string]int{"n": 1}, `{"n":1}`, ""},
		{make(chan int), "", CodeBadRequest},
	} {
		got, err := EncodeArgs[testError](tt.args)
		var te *testError
		if string(got) != tt.want || (tt.code == "") != (err == nil) || err != nil && (!errors.As(err, &te) || te.Code != tt.code) {
			t.Errorf("EncodeArgs(%v) = %s, %v", tt.args, got, err)
		}
	}
}

func TestContextError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	err := ContextError[testError](ctx)
	var te *testError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &te) || te.Code != CodeTimeout {
		t.Fatalf("deadline: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	err = ContextError[testError](ctx)
	if !errors.Is(err, context.Canceled) || !errors.As(err, &te) || te.Code != CodeCanceled {
		t.Fatalf("cancel: %v", err)
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{"guild.count:v2-x_y": true, "": false, "a b": false, "é": false, string(make([]byte, 65)): false} {
		if ValidName(name) != want {
			t.Errorf("ValidName(%q) = %v", name, !want)
		}
	}
}
