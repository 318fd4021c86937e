package discordtest

import (
	"slices"
	"testing"
)

func TestHistoryKeepsTheNewest(t *testing.T) {
	h := history[int]{max: 3}
	for i := range 10 {
		h.add(i)
		if all := h.all(); len(all) > 2*h.max || all[len(all)-1] != i {
			t.Fatalf("after adding %d: %v", i, all)
		}
	}
	got, next := h.from(0)
	if next != 10 || len(got) < 3 || !slices.Equal(got[len(got)-3:], []int{7, 8, 9}) {
		t.Fatalf("from(0) = %v, %d; want at least 7 8 9, next 10", got, next)
	}
	if got, next := h.from(8); !slices.Equal(got, []int{8, 9}) || next != 10 {
		t.Fatalf("from(8) = %v, %d; want 8 9, next 10", got, next)
	}
	unbounded := history[int]{}
	for i := range 1000 {
		unbounded.add(i)
	}
	if got, _ := unbounded.from(0); len(got) != 1000 {
		t.Fatalf("an unbounded history kept %d of 1000", len(got))
	}
}
