package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// measurement is one client run: the client's own JSON report, and what
// the server process spent meanwhile, per call.
type measurement struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`

	serverCPUus float64 // CPU time of all the server's threads, µs per call
	serverCS    float64 // context switches of all its threads, per call
	clientCPUus float64 // the same for the client process, over its whole run
	clientCS    float64
}

var wsURL = regexp.MustCompile(`ws://[0-9.]+:[0-9]+`)

// measure starts a server process, runs one client process against it,
// and stops the server by its PID.
func measure(c contender, p placement, n, conc int) (measurement, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := command(ctx, p.server, c.server)
	out, err := srv.StdoutPipe()
	if err != nil {
		return measurement{}, err
	}
	if err := srv.Start(); err != nil {
		return measurement{}, err
	}
	defer func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return measurement{}, fmt.Errorf("server printed no address: %w", err)
	}
	url := wsURL.FindString(line)
	if url == "" {
		return measurement{}, fmt.Errorf("no URL in %q", line)
	}
	args := append(slices.Clone(c.client), "--url", url, "--n", strconv.Itoa(n), "--concurrency", strconv.Itoa(conc), "--json")
	before, err := threadStats(srv.Process.Pid)
	if err != nil {
		return measurement{}, err
	}
	cl := command(ctx, p.client, args)
	b, err := cl.Output()
	if err != nil {
		return measurement{}, fmt.Errorf("%v: %s", err, b)
	}
	after, err := threadStats(srv.Process.Pid)
	if err != nil {
		return measurement{}, err
	}
	var m measurement
	if err := json.Unmarshal([]byte(strings.TrimSpace(string(b))), &m); err != nil {
		return measurement{}, err
	}
	if m.Errors > 0 || m.Requests != n {
		return m, fmt.Errorf("%d errors, %d of %d requests", m.Errors, m.Requests, n)
	}
	m.serverCPUus = float64(after.cpu-before.cpu) / 1e3 / float64(n)
	m.serverCS = float64(after.switches-before.switches) / float64(n)
	if ru, ok := cl.ProcessState.SysUsage().(*syscall.Rusage); ok {
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		m.clientCPUus = float64(cpu.Microseconds()) / float64(n)
		m.clientCS = float64(ru.Nvcsw+ru.Nivcsw) / float64(n)
	}
	return m, nil
}

// command is argv run under taskset -c cpus, or as is when cpus is "".
func command(ctx context.Context, cpus string, argv []string) *exec.Cmd {
	if cpus != "" {
		argv = append([]string{"taskset", "-c", cpus}, argv...)
	}
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// procStats is what the threads of a process have spent so far.
type procStats struct {
	cpu      int64 // nanoseconds on a CPU (schedstat)
	switches int64 // voluntary and involuntary context switches
}

// threadStats sums procStats over every thread of pid. (A process's own
// status and schedstat files count its main thread only.)
func threadStats(pid int) (procStats, error) {
	var s procStats
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if err != nil || len(tasks) == 0 {
		return s, fmt.Errorf("listing the threads of %d: %v", pid, err)
	}
	for _, t := range tasks {
		sched, err := os.ReadFile(filepath.Join(t, "schedstat"))
		if err != nil {
			return s, err
		}
		f := strings.Fields(string(sched))
		if len(f) == 0 {
			return s, fmt.Errorf("%s/schedstat: empty", t)
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return s, fmt.Errorf("%s/schedstat: %w", t, err)
		}
		s.cpu += ns
		status, err := os.ReadFile(filepath.Join(t, "status"))
		if err != nil {
			return s, err
		}
		for _, line := range strings.Split(string(status), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if ok && (k == "voluntary_ctxt_switches" || k == "nonvoluntary_ctxt_switches") {
				n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				if err != nil {
					return s, fmt.Errorf("%s/status: %s: %w", t, k, err)
				}
				s.switches += n
			}
		}
	}
	return s, nil
}
