package transport

// The codes this package fails calls with; they are ipc's Code* constants
// (an ipc test checks they agree).
const (
	CodeBadRequest   = "bad_request"
	CodeHandlerError = "handler_error"
	CodeEncodeError  = "encode_error"
	CodeTimeout      = "timeout"
	CodeCanceled     = "canceled"
)

// ErrorShape is what ipc.Error is: a code and a message. This package
// makes ipc's errors through it without importing ipc, which imports this
// package.
type ErrorShape interface {
	~struct{ Code, Message string }
}

// ErrorPtr is the pointer to an ErrorShape that is the error (*ipc.Error).
type ErrorPtr[E ErrorShape] interface {
	*E
	error
}

func newError[E ErrorShape, P ErrorPtr[E]](code, message string) error {
	return P(&E{Code: code, Message: message})
}
