package spread_test

import (
	"fmt"

	"github.com/ipcord/ipcord/bench/internal/spread"
)

func Example() {
	rounds := []float64{44.6, 33.3, 60.6, 41.2, 39.0, 48.1}
	fmt.Println(spread.Of(rounds).Format(1, " µs"))
	// Output: 42.9 µs (33.3–60.6)
}
