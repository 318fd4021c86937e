package cmdline

import (
	"encoding/json"
	"fmt"
	"strings"
)

// CallArgs makes a call's arguments from --args or from k=v pairs; in a
// pair the value is JSON when it parses as JSON (n=5 → 5), else a string.
// Neither gives nil (no arguments).
func CallArgs(argsJSON string, pairs []string) (json.RawMessage, error) {
	if argsJSON != "" {
		if len(pairs) > 0 {
			return nil, fmt.Errorf("give either --args or k=v pairs, not both")
		}
		if !json.Valid([]byte(argsJSON)) {
			return nil, fmt.Errorf("--args is not valid JSON")
		}
		return json.RawMessage(argsJSON), nil
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]json.RawMessage, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("argument %q is not k=v", p)
		}
		if json.Valid([]byte(v)) {
			m[k] = json.RawMessage(v)
		} else {
			m[k], _ = json.Marshal(v)
		}
	}
	return json.Marshal(m)
}
