// Command disgobot is a disgo bot the e2e tests run against `ipcord fake`:
// it reports what disgo parsed (internal/report), sends "!say TEXT" back
// with disgo's REST client, and answers the /ping command with disgo's
// interaction reply.
package main
