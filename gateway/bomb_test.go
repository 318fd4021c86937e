package gateway_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/gateway"
	"github.com/ipcord/ipcord/internal/wsproto"
	"github.com/klauspost/compress/flate"
)

// zlibBomb is a zlib-stream message of about size bytes that inflates to
// about a thousand times that: zeros, compressed once, the second
// sync-flushed chunk repeated (it refers only to zeros in the window, so
// any number of copies is a valid stream).
func zlibBomb(size int) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	zeros := make([]byte, 1<<20)
	w.Write(zeros)
	w.Flush()
	first := append([]byte(nil), buf.Bytes()...)
	buf.Reset()
	w.Write(zeros)
	w.Flush()
	chunk := buf.Bytes()
	msg := append([]byte{0x78, 0xda}, first...)
	for len(msg) < size {
		msg = append(msg, chunk...)
	}
	return msg
}

// zstdBomb is a zstd-stream message of about size bytes: a frame header
// declaring a 1 MiB window, then RLE blocks of 128 KiB, four bytes each,
// none of them last, so it inflates to 32,768 times its size.
func zstdBomb(size int) []byte {
	msg := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 10 << 3} // magic, no flags, window 2^20
	hdr := uint32(128<<10)<<3 | 1<<1                     // Block_Size, RLE, not last
	for len(msg) < size {
		msg = append(msg, byte(hdr), byte(hdr>>8), byte(hdr>>16), 0)
	}
	return msg
}

// bombProbe is one of issue 13's probes.
type bombProbe struct {
	name string
	comp gateway.Compression
	msg  func() []byte
	fast bool // Config.ZstdFastDecoder
}

var bombProbes = []bombProbe{
	{"zlib 1 MB", gateway.CompressZlib, func() []byte { return zlibBomb(1 << 20) }, false},
	{"zstd 115 KB", gateway.CompressZstd, func() []byte { return zstdBomb(115 << 10) }, false},
	{"zstd 115 KB klauspost", gateway.CompressZstd, func() []byte { return zstdBomb(115 << 10) }, true},
}

// A decompression bomb fails with ErrMessageTooBig, and memory stays
// bounded on the way: the process's peak resident memory, measured in a
// child process that does nothing else, grows by less than 1.5 times
// MaxMessage (the inflated output stops at MaxMessage; the rest is the
// compressed message and the decoders).
func TestDecompressionBombMemory(t *testing.T) {
	for _, p := range bombProbes {
		t.Run(p.name, func(t *testing.T) {
			res, err := runBomb(t, p, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: peak RSS %d MiB above a %d MiB baseline (%s)", p.name, res.peak>>20, res.base>>20, res.err)
			if !strings.Contains(res.err, "message too big") {
				t.Fatalf("the bomb ended with %q, want ErrMessageTooBig", res.err)
			}
			limit := int64(gateway.DefaultMaxMessage * 3 / 2)
			if raceEnabled {
				limit *= 4
			}
			if res.peak > limit {
				t.Fatalf("peak RSS grew by %d MiB, want at most %d MiB (1.5 × DefaultMaxMessage, ×4 under -race)", res.peak>>20, limit>>20)
			}
		})
	}
}

type bombResult struct {
	base, peak int64 // resident bytes before, and the peak's growth over it
	err        string
}

// runBomb feeds p's message to a Conn in a child process (this test
// binary, re-executed) and reports its peak resident memory.
func runBomb(t testing.TB, p bombProbe, maxMessage int) (bombResult, error) {
	path := filepath.Join(t.TempDir(), "bomb")
	if err := os.WriteFile(path, p.msg(), 0o600); err != nil {
		return bombResult{}, err
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "IPCORD_BOMB="+path, "IPCORD_BOMB_COMP="+strconv.Itoa(int(p.comp)), "IPCORD_BOMB_FAST="+strconv.FormatBool(p.fast),
		"IPCORD_BOMB_MAX="+strconv.Itoa(maxMessage))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return bombResult{}, fmt.Errorf("child: %v\n%s", err, out)
	}
	var r bombResult
	line := string(out[bytes.Index(out, []byte("bomb: ")):])
	line = line[:strings.IndexByte(line, '\n')]
	if _, err := fmt.Sscanf(line, "bomb: base=%d peak=%d", &r.base, &r.peak); err != nil {
		return r, fmt.Errorf("child said %q: %v", out, err)
	}
	r.err = line[strings.Index(line, "err=")+4:]
	return r, nil
}

// bombChild is the child side of runBomb, run from TestMain: it feeds the
// bomb and prints the memory figures instead of running tests.
func bombChild() bool {
	path := os.Getenv("IPCORD_BOMB")
	if path == "" {
		return false
	}
	msg, err := os.ReadFile(path)
	if err != nil {
		fmt.Println("bomb:", err)
		os.Exit(1)
	}
	comp, _ := strconv.Atoi(os.Getenv("IPCORD_BOMB_COMP"))
	max, _ := strconv.Atoi(os.Getenv("IPCORD_BOMB_MAX"))
	fast, _ := strconv.ParseBool(os.Getenv("IPCORD_BOMB_FAST"))
	c, err := gateway.New(gateway.Config{Token: "t", Compression: gateway.Compression(comp), MaxMessage: max, ZstdFastDecoder: fast})
	if err != nil {
		fmt.Println("bomb:", err)
		os.Exit(1)
	}
	d, err := c.Connect()
	if err != nil {
		fmt.Println("bomb:", err)
		os.Exit(1)
	}
	stream := append(acceptFor(d), wsproto.AppendFrame(nil, wsproto.Server, wsproto.OpBinary, true, false, [4]byte{}, msg)...)
	msg = nil
	runtime.GC()
	base := procStatus("VmRSS")
	// Fed as a shard reads it: 16 KiB at a time.
	var ferr error
	for len(stream) > 0 && ferr == nil {
		n := min(len(stream), 16<<10)
		c.Receive(stream[:n])
		stream = stream[n:]
		for {
			ev, err := c.Next()
			if err != nil {
				ferr = err
				break
			}
			if ev == nil {
				break
			}
		}
	}
	if ferr == nil {
		ferr = errors.New("no error")
	}
	fmt.Printf("bomb: base=%d peak=%d err=%v\n", base, procStatus("VmHWM")-base, ferr)
	return true
}

// procStatus reads a field of /proc/self/status, in bytes.
func procStatus(field string) int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// acceptFor is the server's 101 reply to d's upgrade request.
func acceptFor(d gateway.Dial) []byte {
	req := string(d.Request)
	key := req[strings.Index(req, "Sec-WebSocket-Key: ")+len("Sec-WebSocket-Key: "):]
	key = key[:strings.Index(key, "\r\n")]
	return wsproto.AppendResponse(nil, key, "", "", nil)
}

func TestMain(m *testing.M) {
	if bombChild() {
		return
	}
	os.Exit(m.Run())
}
