package proctest

import (
	"fmt"
	"os/exec"
	"strings"
)

// Build runs `go build` with args in dir (a module's root, where its
// go.mod and go.sum decide the versions) and returns an error holding the
// compiler's output when it fails.
func Build(dir string, args ...string) error {
	build := exec.Command("go", append([]string{"build"}, args...)...)
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
