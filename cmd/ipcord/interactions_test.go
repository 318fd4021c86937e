package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipcord/ipcord/discordtest"
	"github.com/ipcord/ipcord/internal/leaktest"
	"github.com/ipcord/ipcord/internal/syncbuf"
)

func TestInteractionsCommand(t *testing.T) {
	leaktest.Check(t)
	signer, _ := discordtest.NewSignerFromKey(bytes.Repeat([]byte{9}, 32))
	fake, err := discordtest.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()

	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	var errb syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, &env{stdout: pw, stderr: &errb, getenv: func(string) string { return "" }},
			[]string{"interactions", "--listen", "127.0.0.1:0", "--public-key", signer.PublicKeyHex(),
				"--rest-url", fake.URL, "--defer-after", "500ms", "--slow", "800ms"})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	url := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	post := func(body string) (int, string) {
		req, _ := signer.NewRequest(ctx, url, []byte(body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cmd := func(name, options string) string {
		return `{"id":"1","application_id":"11","type":2,"token":"tok","data":{"name":"` + name + `","type":1,"options":` + options + `}}`
	}
	if code, body := post(`{"id":"1","type":1,"token":"t"}`); code != 200 || body != `{"type":1}` {
		t.Fatalf("ping: %d %s", code, body)
	}
	if code, body := post(cmd("ping", "[]")); code != 200 || !strings.Contains(body, `"content":"pong"`) || !strings.Contains(body, `"custom_id":"echo:hello"`) {
		t.Fatalf("/ping: %d %s", code, body)
	}
	if code, body := post(`{"id":"1","type":3,"token":"t","data":{"custom_id":"echo:hello","component_type":2}}`); code != 200 || !strings.Contains(body, `custom_id: echo:hello`) {
		t.Fatalf("button: %d %s", code, body)
	}
	if code, body := post(`{"id":"1","type":4,"token":"t","data":{"name":"fruit","type":1,"options":[{"name":"name","type":3,"value":"ap","focused":true}]}}`); code != 200 ||
		body != `{"type":8,"data":{"choices":[{"name":"apple","value":"apple"},{"name":"apricot","value":"apricot"}]}}` {
		t.Fatalf("autocomplete: %d %s", code, body)
	}
	if code, body := post(cmd("slow", "[]")); code != 200 || body != `{"type":5}` {
		t.Fatalf("/slow: %d %s", code, body)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	r, err := fake.Wait(wctx, discordtest.Route("PATCH /webhooks/11/tok/messages/@original"))
	if err != nil || !strings.Contains(string(r.JSON), "done after 800ms") {
		t.Fatalf("slow edit: %s %v", r.JSON, err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("interactions did not stop")
	}
}

func TestInteractionsUsage(t *testing.T) {
	if code, _, errOut := runCLI(t, nil, "interactions"); code != 2 || !strings.Contains(errOut, "--public-key") {
		t.Fatalf("no key: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, nil, "interactions", "--public-key", "abc"); code != 1 || !strings.Contains(errOut, "public key") {
		t.Fatalf("bad key: %d %s", code, errOut)
	}
}
