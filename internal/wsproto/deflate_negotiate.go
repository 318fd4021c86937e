package wsproto

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DeflateExtension is the extension token of RFC 7692's per-message
// compression.
const DeflateExtension = "permessage-deflate"

// DeflateOffer is the Sec-WebSocket-Extensions value a client sends to ask
// for permessage-deflate the way this package implements it: every message
// compressed on its own, in both directions (no context takeover).
//
// No context takeover costs some ratio on streams of small similar
// messages, but it keeps no compression state between messages, so the
// compressor and decompressor of a connection can be borrowed from a pool
// for one message and a connection holds no 32 KiB windows while idle.
const DeflateOffer = DeflateExtension + "; server_no_context_takeover; client_no_context_takeover"

// deflateAccept is what a server answers to an offer it accepts.
const deflateAccept = DeflateExtension + "; server_no_context_takeover; client_no_context_takeover"

// ErrDeflateResponse matches a server's answer to DeflateOffer that this
// package cannot work with (CheckDeflateResponse).
var ErrDeflateResponse = errors.New("wsproto: unusable permessage-deflate response")

// extParam is one parameter of an extension: name, or name=value.
type extParam struct {
	name, value string
	hasValue    bool
}

// parseExtensions splits Sec-WebSocket-Extensions values into extensions,
// each a token and its parameters. Quoted values are unquoted; a malformed
// extension is returned with ok=false so the caller can skip it.
func parseExtensions(values []string) (exts []parsedExt) {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			fields := strings.Split(part, ";")
			e := parsedExt{name: strings.TrimSpace(fields[0]), ok: true}
			if e.name == "" {
				continue
			}
			for _, f := range fields[1:] {
				name, value, has := strings.Cut(f, "=")
				p := extParam{name: strings.TrimSpace(name), hasValue: has}
				if has {
					p.value = strings.TrimSpace(value)
					if len(p.value) >= 2 && p.value[0] == '"' && p.value[len(p.value)-1] == '"' {
						p.value = p.value[1 : len(p.value)-1]
					}
				}
				if p.name == "" {
					e.ok = false
				}
				e.params = append(e.params, p)
			}
			exts = append(exts, e)
		}
	}
	return exts
}

type parsedExt struct {
	name   string
	params []extParam
	ok     bool
}

// windowBits parses a max_window_bits value, which RFC 7692 allows from 8
// to 15.
func windowBits(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 8 || n > 15 || len(v) > 2 {
		return 0, false
	}
	return n, true
}

// AcceptDeflate is the server side of the negotiation: given the values of
// the client's Sec-WebSocket-Extensions headers, it returns the value to
// answer with and true when one of the client's permessage-deflate offers
// can be accepted, or "" and false (answer without the header; messages
// then go uncompressed).
//
// The answer always asks for no context takeover both ways, which RFC 7692
// lets a server do whatever the client offered. An offer limiting the
// server's window below 15 bits is declined: the compressor uses the full
// 32 KiB window. An offer with unknown or repeated parameters is declined.
func AcceptDeflate(offers []string) (response string, ok bool) {
	for _, e := range parseExtensions(offers) {
		if e.name != DeflateExtension || !e.ok {
			continue
		}
		seen := map[string]bool{}
		acceptable, echoBits := true, false
		for _, p := range e.params {
			if seen[p.name] {
				acceptable = false
				break
			}
			seen[p.name] = true
			switch p.name {
			case "server_no_context_takeover", "client_no_context_takeover":
				acceptable = !p.hasValue
			case "server_max_window_bits":
				n, valid := windowBits(p.value)
				acceptable = p.hasValue && valid && n == 15
				echoBits = true
			case "client_max_window_bits":
				// The client may use a smaller window; the decompressor
				// handles any window up to 15 bits, so nothing to answer.
				if p.hasValue {
					_, acceptable = windowBits(p.value)
				}
			default:
				acceptable = false
			}
			if !acceptable {
				break
			}
		}
		if !acceptable {
			continue
		}
		if echoBits {
			return deflateAccept + "; server_max_window_bits=15", true
		}
		return deflateAccept, true
	}
	return "", false
}

// CheckDeflateResponse is the client side of the negotiation, for a client
// that offered DeflateOffer: given the server's Sec-WebSocket-Extensions
// (Response.Extensions), it reports whether messages may be compressed.
// An empty value means the server declined, which is not an error. An
// answer that breaks RFC 7692 or our offer (another extension, a missing
// server_no_context_takeover, a client window limit we did not offer) is
// an error wrapping ErrDeflateResponse and ErrHandshake: the connection
// must be failed.
func CheckDeflateResponse(extensions string) (on bool, err error) {
	if strings.TrimSpace(extensions) == "" {
		return false, nil
	}
	bad := func(why string) (bool, error) {
		return false, fmt.Errorf("%w (%w): %s: %q", ErrDeflateResponse, ErrHandshake, why, extensions)
	}
	exts := parseExtensions([]string{extensions})
	if len(exts) != 1 || exts[0].name != DeflateExtension || !exts[0].ok {
		return bad("server accepted an extension that was not offered")
	}
	seen := map[string]bool{}
	for _, p := range exts[0].params {
		if seen[p.name] {
			return bad("repeated parameter " + p.name)
		}
		seen[p.name] = true
		switch p.name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.hasValue {
				return bad(p.name + " with a value")
			}
		case "server_max_window_bits":
			if _, ok := windowBits(p.value); !ok || !p.hasValue {
				return bad("bad server_max_window_bits")
			}
		default:
			return bad("unexpected parameter " + p.name)
		}
	}
	if !seen["server_no_context_takeover"] {
		return bad("server did not agree to server_no_context_takeover")
	}
	return true, nil
}
