package discord

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ErrBadSnowflake is returned (wrapped) when a snowflake is neither a
// decimal string nor a non-negative integer.
var ErrBadSnowflake = errors.New("discord: bad snowflake")

// Epoch is the first millisecond of 2015, the zero of snowflake timestamps.
const Epoch int64 = 1420070400000

// Snowflake is a Discord ID. Discord sends IDs as JSON strings (they exceed
// the 2^53 that JavaScript numbers hold exactly); Snowflake marshals as a
// string and unmarshals from a string or a number.
type Snowflake uint64

// ParseSnowflake parses a decimal snowflake.
func ParseSnowflake(s string) (Snowflake, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBadSnowflake, s)
	}
	return Snowflake(n), nil
}

// String returns the decimal form Discord uses in URLs.
func (s Snowflake) String() string { return strconv.FormatUint(uint64(s), 10) }

// Timestamp returns when the ID was made (millisecond precision, UTC).
func (s Snowflake) Timestamp() time.Time {
	return time.UnixMilli(int64(s>>22) + Epoch).UTC()
}

// ShardID returns the shard that receives events for the guild with this ID
// when the bot runs numShards shards: (id >> 22) % numShards. It returns 0
// for numShards ≤ 1 (one shard gets everything, and DMs always go to 0).
func (s Snowflake) ShardID(numShards int) int {
	if numShards <= 1 {
		return 0
	}
	return int((uint64(s) >> 22) % uint64(numShards))
}

// IsZero reports whether the ID is unset.
func (s Snowflake) IsZero() bool { return s == 0 }

// MarshalJSON writes the ID as a JSON string.
func (s Snowflake) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 22)
	b = append(b, '"')
	b = strconv.AppendUint(b, uint64(s), 10)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts "123", 123 and null (which leaves s unchanged).
func (s *Snowflake) UnmarshalJSON(b []byte) error {
	n, err := parseQuotedUint(b)
	if err != nil {
		return fmt.Errorf("%w: %.40q", ErrBadSnowflake, b)
	}
	if n != nil {
		*s = Snowflake(*n)
	}
	return nil
}

// MarshalText writes the decimal form, so a Snowflake works as a map key
// and as a flag value.
func (s Snowflake) MarshalText() ([]byte, error) { return strconv.AppendUint(nil, uint64(s), 10), nil }

// UnmarshalText parses the decimal form.
func (s *Snowflake) UnmarshalText(b []byte) error {
	v, err := ParseSnowflake(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// parseQuotedUint parses a JSON string holding a decimal integer, a bare
// JSON integer, or null (returning nil).
func parseQuotedUint(b []byte) (*uint64, error) {
	if string(b) == "null" {
		return nil, nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	// Digits only, as Discord sends them; parsed by hand because this runs
	// for every ID of every payload and strconv would need a string.
	if len(b) == 0 || len(b) > 20 {
		return nil, errNotUint
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return nil, errNotUint
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return nil, errNotUint
		}
		n = n*10 + d
	}
	return &n, nil
}

var errNotUint = errors.New("not an unsigned decimal integer")

// ErrBadPermissions is returned (wrapped) for a permissions value that is
// not a decimal integer.
var ErrBadPermissions = errors.New("discord: bad permissions")

// Permissions is a permission bit set. Discord sends it as a decimal string.
type Permissions uint64

// Common permission bits; see Discord's permissions documentation for the
// full list.
const (
	PermissionAdministrator  Permissions = 1 << 3
	PermissionManageChannels Permissions = 1 << 4
	PermissionManageGuild    Permissions = 1 << 5
	PermissionViewChannel    Permissions = 1 << 10
	PermissionSendMessages   Permissions = 1 << 11
	PermissionManageMessages Permissions = 1 << 13
	PermissionEmbedLinks     Permissions = 1 << 14
	PermissionAttachFiles    Permissions = 1 << 15
	PermissionManageRoles    Permissions = 1 << 28
)

// Has reports whether every bit of q is set in p.
func (p Permissions) Has(q Permissions) bool { return p&q == q }

// MarshalJSON writes the set as a decimal string.
func (p Permissions) MarshalJSON() ([]byte, error) { return Snowflake(p).MarshalJSON() }

// UnmarshalJSON accepts a decimal string, a number, or null.
func (p *Permissions) UnmarshalJSON(b []byte) error {
	n, err := parseQuotedUint(b)
	if err != nil {
		return fmt.Errorf("%w: %.40q", ErrBadPermissions, b)
	}
	if n != nil {
		*p = Permissions(*n)
	}
	return nil
}
