package discordtest

import (
	"testing"

	"github.com/ipcord/ipcord/internal/leaktest"
)

// The REST fake's session start budget is the one IDENTIFY spends, and a
// RESUME spends none.
func TestGatewaySpendsServerSessionStarts(t *testing.T) {
	leaktest.Check(t)
	ctx := testCtx(t)
	srv, err := NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	before := srv.GatewayBot().SessionStartLimit.Remaining
	g := startGateway(t, &Gateway{SessionStarts: srv})
	c := mustDial(t, g.URL(), "v=10")
	r := c.identify(ctx, 0, 1)
	if got := srv.GatewayBot().SessionStartLimit.Remaining; got != before-1 {
		t.Fatalf("remaining after IDENTIFY = %d, want %d", got, before-1)
	}
	c.ws.Close(4000, "")
	c2 := mustDial(t, g.ResumeURL(), "v=10")
	c2.mustRead(ctx)
	c2.mustSend(ctx, resumePayload("tok", r.SessionID, 1))
	c2.readUntil(ctx, 0, "RESUMED")
	if got := srv.GatewayBot().SessionStartLimit.Remaining; got != before-1 {
		t.Fatalf("remaining after RESUME = %d, want %d", got, before-1)
	}
}
