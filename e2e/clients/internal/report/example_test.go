package report_test

import (
	"fmt"

	"github.com/ipcord/ipcord/e2e/clients/internal/report"
)

// A bot reports what its library parsed and what it did, one JSON object
// a line, which the test reads from its stdout.
func Example() {
	report.Ready("100", []report.Guild{{ID: "1", Name: "lounge", Channels: 2, Members: 3}})
	report.Message("9", "2", "1", "42", "!say hi")
	if text, ok := report.Say("!say hi"); ok {
		fmt.Printf("(the bot sends %q)\n", text)
		report.Done("say", "10", nil)
	}
	// Output:
	// {"ev":"ready","guilds":[{"id":"1","name":"lounge","channels":2,"members":3}],"user_id":"100"}
	// {"author_id":"42","channel_id":"2","content":"!say hi","ev":"message","guild_id":"1","id":"9"}
	// (the bot sends "hi")
	// {"ev":"say","id":"10"}
}
