package spread_test

import (
	"testing"

	"github.com/ipcord/ipcord/bench/internal/spread"
)

func TestOf(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want spread.Spread
	}{
		{nil, spread.Spread{}},
		{[]float64{3}, spread.Spread{3, 3, 3}},
		{[]float64{5, 1, 3}, spread.Spread{3, 1, 5}},
		{[]float64{4, 1, 2, 9}, spread.Spread{3, 1, 9}},
	} {
		in := append([]float64(nil), c.in...)
		if got := spread.Of(in); got != c.want {
			t.Errorf("Of(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Fatalf("Of sorted its argument: %v", in)
			}
		}
	}
	if got := (spread.Spread{2048, 1024, 4096}).Scale(1024).Format(1, " KiB"); got != "2.0 KiB (1.0–4.0)" {
		t.Errorf("Format = %q", got)
	}
}
