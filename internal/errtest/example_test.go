package errtest_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/ipcord/ipcord/internal/errtest"
)

// A test of an API's failure checks the error with errors.Is or errors.As,
// then that nothing internal leaks through its chain.
func ExampleExported() {
	testOpen := func(t *testing.T) {
		_, err := os.Open("/nonexistent")
		err = fmt.Errorf("config: %w", err)
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		errtest.Exported(t, err)
	}
	_ = testOpen
}
