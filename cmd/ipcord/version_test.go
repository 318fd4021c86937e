package main

import (
	"context"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.10", Main: debug.Module{Path: "github.com/ipcord/ipcord", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123abc"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := versionText(bi)
	for _, want := range []string{"ipcord v0.3.0 (module github.com/ipcord/ipcord)\n", "revision 0123abc 2026-01-02T03:04:05Z (modified)\n", "go1.26.10 "} {
		if !strings.Contains(got, want) {
			t.Errorf("version text %q lacks %q", got, want)
		}
	}
	bi.Settings = nil
	if got := versionText(bi); !strings.Contains(got, "revision unknown") {
		t.Errorf("without VCS settings: %q", got)
	}
	e, out, _ := testEnv(nil)
	if code := runMain(context.Background(), e, []string{"version"}); code != 0 || !strings.HasPrefix(out.String(), "ipcord ") {
		t.Fatalf("ipcord version: exit %d, %q", code, out)
	}
}
