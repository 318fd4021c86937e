package discordtest

import (
	"net/http"
	"strings"
)

// apiError is an error answer as Discord gives it: a status and a JSON body
// {"message": ..., "code": ...} with Discord's JSON error code.
type apiError struct {
	status int
	code   int
	msg    string
}

// The errors the fake answers, with Discord's codes and messages.
var (
	errUnauthorized       = apiError{http.StatusUnauthorized, 0, "401: Unauthorized"}
	errUnknownApplication = apiError{http.StatusNotFound, 10002, "Unknown Application"}
	errUnknownChannel     = apiError{http.StatusNotFound, 10003, "Unknown Channel"}
	errUnknownGuild       = apiError{http.StatusNotFound, 10004, "Unknown Guild"}
	errUnknownMember      = apiError{http.StatusNotFound, 10007, "Unknown Member"}
	errUnknownMessage     = apiError{http.StatusNotFound, 10008, "Unknown Message"}
	errUnknownRole        = apiError{http.StatusNotFound, 10011, "Unknown Role"}
	errUnknownUser        = apiError{http.StatusNotFound, 10013, "Unknown User"}
	errUnknownEmoji       = apiError{http.StatusBadRequest, 10014, "Unknown Emoji"}
	errUnknownWebhook     = apiError{http.StatusNotFound, 10015, "Unknown Webhook"}
	errUnknownInteraction = apiError{http.StatusNotFound, 10062, "Unknown interaction"}
	errUnknownCommand     = apiError{http.StatusNotFound, 10063, "Unknown application command"}
	errTooLarge           = apiError{http.StatusRequestEntityTooLarge, 40005, "Request entity too large"}
	errAcknowledged       = apiError{http.StatusBadRequest, 40060, "Interaction has already been acknowledged."}
	errEmptyMessage       = apiError{http.StatusBadRequest, 50006, "Cannot send an empty message"}
	errInvalidJSON        = apiError{http.StatusBadRequest, 50109, "The request body contains invalid JSON."}
	errTooManyMessages    = apiError{http.StatusBadRequest, 50034, "You can only bulk delete messages that are under 14 days old."}
)

func writeAPIError(w http.ResponseWriter, e apiError) {
	writeError(w, e.status, e.code, e.msg)
}

// formError is one field's complaint in a 50035 Invalid Form Body answer.
type formError struct {
	field string // "content", "embeds", "0.name" for an array's element
	code  string // "BASE_TYPE_MAX_LENGTH"
	msg   string
}

// writeFormError answers 400 50035 with Discord's nested errors object:
// {"errors": {"content": {"_errors": [{"code": ..., "message": ...}]}}}.
func writeFormError(w http.ResponseWriter, errs ...formError) {
	nested := map[string]any{}
	for _, e := range errs {
		at := nested
		for _, key := range strings.Split(e.field, ".") {
			next, _ := at[key].(map[string]any)
			if next == nil {
				next = map[string]any{}
				at[key] = next
			}
			at = next
		}
		at["_errors"] = []any{map[string]string{"code": e.code, "message": e.msg}}
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": 50035, "errors": nested})
}
