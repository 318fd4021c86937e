package errtest

import (
	"errors"
	"fmt"
	"testing"
)

type hidden struct{}

func (hidden) Error() string { return "hidden" }

func TestInternalTypes(t *testing.T) {
	// This package is internal, so its own types count as internal.
	inner := fmt.Errorf("wrapped: %w", hidden{})
	for _, tc := range []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("plain"), 0},
		{inner, 1},
		{fmt.Errorf("%w and %w", errors.New("a"), inner), 1},
		{errors.Join(hidden{}, &hidden{}), 2},
	} {
		if got := internalTypes(tc.err); len(got) != tc.want {
			t.Errorf("internalTypes(%v) = %v, want %d", tc.err, got, tc.want)
		}
	}
}
