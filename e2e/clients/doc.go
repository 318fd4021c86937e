// Package clients proves `ipcord fake` against the Discord libraries bots
// are written with: discord.js (npm, pinned in js/package-lock.json),
// discord.py (Debian's python3-discord, py/bot.py), disgo, arikawa and
// discordgo (the Go bots here). Each bot runs unmodified as its own
// process against the ipcord binary and reports what its library parsed,
// one JSON object per line; TestLibraries drives the fake through its
// control API and checks every step. It is a module of its own so the
// peers' modules stay out of ipcord's go.mod. Run it with
//
//	(cd js && npm ci) && go test -race ./...
//
// after `apt-get install python3-discord` (.ci/run does both). Nothing
// skips: a missing client fails the test.
package clients
