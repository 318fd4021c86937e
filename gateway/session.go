package gateway

import (
	"encoding/json"
	"fmt"
)

// Session is what a RESUME needs. Conn.Session exports it and
// Conn.Restore imports it, so a process that restarts within Discord's
// resume window (a minute or two) resumes instead of identifying again,
// keeping its events and its identify budget.
type Session struct {
	ID        string `json:"session_id"`
	Seq       int64  `json:"seq"`
	ResumeURL string `json:"resume_gateway_url,omitempty"`
}

// Valid reports whether s can be resumed.
func (s Session) Valid() bool { return s.ID != "" }

// MarshalBinary encodes s as JSON, for storing between runs.
func (s Session) MarshalBinary() ([]byte, error) { return json.Marshal(s) }

// UnmarshalBinary decodes what MarshalBinary produced.
func (s *Session) UnmarshalBinary(b []byte) error {
	var v Session
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%w: session: %v", ErrDecode, err)
	}
	if v.Seq < 0 {
		return fmt.Errorf("%w: session: negative seq", ErrDecode)
	}
	*s = v
	return nil
}
