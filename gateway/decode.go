package gateway

import (
	"fmt"

	gojson "github.com/goccy/go-json"
)

// decodeJSON unmarshals data into v with goccy/go-json. Data comes off the
// network, so a panic inside the library (it has had such bugs) is turned
// into an error instead of crashing the bot.
func decodeJSON(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &DecodeError{Reason: fmt.Sprintf("JSON decoder panicked: %v", r)}
		}
	}()
	if err := gojson.Unmarshal(data, v); err != nil {
		return &DecodeError{Reason: "dispatch data", Err: err}
	}
	return nil
}
