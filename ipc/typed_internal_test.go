package ipc

import (
	"testing"

	"github.com/ipcord/ipcord/ipc/internal/transport"
)

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"Stats": "stats", "GuildCount": "guild_count", "GetHTTPStatus": "get_http_status",
		"ID": "id", "UserID": "user_id", "Shard2Status": "shard2_status",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// The codes internal/transport fails calls with are this package's.
func TestTransportCodes(t *testing.T) {
	for got, want := range map[string]string{
		transport.CodeBadRequest:   CodeBadRequest,
		transport.CodeHandlerError: CodeHandlerError,
		transport.CodeEncodeError:  CodeEncodeError,
		transport.CodeTimeout:      CodeTimeout,
		transport.CodeCanceled:     CodeCanceled,
	} {
		if got != want {
			t.Errorf("transport code %q, ipc code %q", got, want)
		}
	}
}
