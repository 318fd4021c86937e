// Package discordtest is a fake Discord for offline tests of bots built on
// ipcord (and of ipcord itself).
//
//   - Server fakes the REST routes ipcord calls (interaction callbacks,
//     webhook follow-ups and @original edits, Create Message, Get Gateway
//     Bot, the current application), records every request it receives,
//     and injects faults such as 429s and 5xx answers.
//   - Signer makes an Ed25519 key pair and signs interaction requests
//     exactly as Discord does, so an interactions endpoint can be tested
//     with its real verification on.
//   - The package also holds a fake gateway (in the gateway*.go files),
//     whose IDENTIFYs draw on the Server's session start limit through
//     Server.ConsumeSessionStart.
//
// Everything listens on 127.0.0.1 with an OS-chosen port and stops with
// Close.
package discordtest
