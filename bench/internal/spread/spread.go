package spread

import (
	"fmt"
	"slices"
)

// Spread is a median and the range it sits in.
type Spread struct{ Med, Lo, Hi float64 }

// Of returns the median and range of v; the zero Spread when v is empty.
func Of(v []float64) Spread {
	if len(v) == 0 {
		return Spread{}
	}
	s := slices.Sorted(slices.Values(v))
	m := len(s) / 2
	med := s[m]
	if len(s)%2 == 0 {
		med = (s[m-1] + s[m]) / 2
	}
	return Spread{med, s[0], s[len(s)-1]}
}

// Scale divides the three figures by d, as from bytes to KiB.
func (s Spread) Scale(d float64) Spread { return Spread{s.Med / d, s.Lo / d, s.Hi / d} }

// Format writes the spread as "med (lo–hi)", with prec decimals and unit
// after the median.
func (s Spread) Format(prec int, unit string) string {
	return fmt.Sprintf("%.*f%s (%.*f–%.*f)", prec, s.Med, unit, prec, s.Lo, prec, s.Hi)
}
