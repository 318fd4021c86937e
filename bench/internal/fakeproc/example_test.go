package fakeproc_test

import (
	"fmt"
	"log"
	"os/exec"

	"github.com/ipcord/ipcord/bench/internal/fakeproc"
)

// Start reads where `ipcord fake` answers from what it prints; here a
// shell prints those lines in place of the binary Build makes.
func ExampleStart() {
	cmd := exec.Command("sh", "-c", `printf '  REST      http://127.0.0.1:8080/api/v10 (and /api/v9)\n  gateway   ws://127.0.0.1:8081\n'; exec sleep 60`)
	urls, err := fakeproc.Start(cmd)
	defer func() {
		if cmd.Process != nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(urls.Base, urls.Gateway)
	// Output: http://127.0.0.1:8080 ws://127.0.0.1:8081
}
