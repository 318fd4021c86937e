// Package jsonbench measures decoding gateway dispatches into the discord
// types with encoding/json and the faster JSON libraries, on the gateway
// benchmark corpus. It is its own module so that the libraries compared
// stay out of ipcord's requirements; it has no API.
//
//	cd gateway/jsonbench && go test -run '^$' -bench . -benchtime 3x
package jsonbench
