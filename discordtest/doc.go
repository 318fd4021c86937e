// Package discordtest is a fake Discord for offline tests of bots built on
// ipcord, of ipcord itself, and (through `ipcord fake`) of bots in any
// language.
//
//   - Server fakes the REST routes a typical bot calls (Routes lists them):
//     the current user and application, application commands, messages
//     and reactions, channels, guilds, members and roles, DMs, typing, the
//     interaction callback and webhook follow-ups, Get Gateway Bot. It is
//     stateful: sample guilds (AddGuild, or a Gateway's Guilds) hold
//     channels, roles and members; messages, reactions and commands are
//     kept; each change is sent over the attached Gateway as the event
//     Discord sends. Errors are Discord's (status, JSON code, message);
//     a route it does not model answers 404 "not modeled by ipcord fake".
//     It records every request, sends rate-limit headers on every answer,
//     and injects faults such as 429s and 5xx answers.
//   - Gateway speaks the gateway protocol (HELLO, IDENTIFY/READY,
//     RESUME/RESUMED with replay, heartbeats, zlib-stream and zstd-stream,
//     the limits and close codes), keeps sessions resumable for
//     SessionTimeout after their connection goes, and injects faults.
//     Flood sends Events (encoded and compressed once) as fast as a bot
//     reads them, for load tests: the fake spends far less per event than
//     the bot it feeds.
//   - Signer makes an Ed25519 key pair and signs interaction requests
//     exactly as Discord does, so an interactions endpoint can be tested
//     with its real verification on.
//
// The objects it sends carry every field Discord documents as always
// present, with its documented type: shapes_test.go checks each against
// the field tables and examples of Discord's docs, kept in
// testdata/shapes.
// Everything listens on 127.0.0.1 with an OS-chosen port and stops with
// Close.
package discordtest
