// Command arikawabot is an arikawa bot the e2e tests run against `ipcord
// fake`: it reports what arikawa's state parsed (internal/report), sends
// "!say TEXT" back with SendMessage, and answers the /ping command with
// RespondInteraction. arikawa's endpoints are fixed at discord.com, so the
// process's default transport is pointed at the fake
// (report.RedirectDiscord).
package main
