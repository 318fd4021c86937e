package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	register(&command{name: "version", summary: "print the module version and VCS revision of this binary", run: runVersion})
}

func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "")
	if _, err := fs.Parse(args); err != nil {
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("this binary carries no build information")
	}
	fmt.Fprint(e.stdout, versionText(bi))
	return nil
}

// versionText is what `ipcord version` prints: the main module's version
// ("(devel)" when built without one), the VCS revision the binary was built
// from (go build and go install record it in a clone; go run and
// -buildvcs=false do not), and the toolchain.
func versionText(bi *debug.BuildInfo) string {
	s := fmt.Sprintf("ipcord %s (module %s)\n", bi.Main.Version, bi.Main.Path)
	vcs := map[string]string{}
	for _, kv := range bi.Settings {
		vcs[kv.Key] = kv.Value
	}
	if rev := vcs["vcs.revision"]; rev != "" {
		s += "revision " + rev
		if t := vcs["vcs.time"]; t != "" {
			s += " " + t
		}
		if vcs["vcs.modified"] == "true" {
			s += " (modified)"
		}
		s += "\n"
	} else {
		s += "revision unknown (not recorded: built with go run or -buildvcs=false)\n"
	}
	return s + fmt.Sprintf("%s %s/%s\n", bi.GoVersion, runtime.GOOS, runtime.GOARCH)
}
