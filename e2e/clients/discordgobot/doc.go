// Command discordgobot is a discordgo bot the e2e tests run against
// `ipcord fake`: it reports what discordgo parsed (internal/report), sends
// "!say TEXT" back with ChannelMessageSend, and answers the /ping command
// with InteractionRespond. discordgo's endpoints are fixed at
// discord.com, so the process's default transport is pointed at the fake
// (report.RedirectDiscord); the gateway URL comes from the fake's GET
// /gateway like any other answer.
package main
