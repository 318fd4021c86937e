package fakeproc

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
)

// Build builds ../cmd/ipcord (the bench module sits beside the root
// module) into dir and returns the binary's path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "ipcord")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ipcord")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ipcord: %v\n%s", err, out)
	}
	return bin, nil
}

// URLs are where a started fake answers.
type URLs struct {
	Base    string // the REST and control API's base, http://host:port
	Gateway string // ws://host:port
}

var (
	restRE = regexp.MustCompile(`REST +(http://[0-9.:]+)/api/v10`)
	gwRE   = regexp.MustCompile(`gateway +(ws://[0-9.:]+)`)
)

// Start starts cmd, an `ipcord fake` command line, and reads its URLs from
// what it prints. The caller kills and waits for cmd.
func Start(cmd *exec.Cmd) (URLs, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return URLs{}, err
	}
	if err := cmd.Start(); err != nil {
		return URLs{}, err
	}
	var u URLs
	sc := bufio.NewScanner(out)
	for (u.Base == "" || u.Gateway == "") && sc.Scan() {
		if m := restRE.FindStringSubmatch(sc.Text()); m != nil {
			u.Base = m[1]
		}
		if m := gwRE.FindStringSubmatch(sc.Text()); m != nil {
			u.Gateway = m[1]
		}
	}
	if u.Base == "" || u.Gateway == "" {
		return u, fmt.Errorf("ipcord fake printed no URLs")
	}
	go io.Copy(io.Discard, out)
	return u, nil
}
