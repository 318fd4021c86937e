package rest

import (
	"context"
	"net/url"

	"github.com/ipcord/ipcord/discord"
)

// CreateInteractionResponse answers an interaction through the callback
// route (POST /interactions/{id}/{token}/callback), the alternative to
// answering in the HTTP reply. It needs no bot token.
func (c *Client) CreateInteractionResponse(ctx context.Context, id discord.Snowflake, token string, resp *discord.InteractionResponse, files ...File) error {
	body := any(resp)
	if len(files) > 0 && resp.Data != nil {
		cp := *resp
		data := *resp.Data
		data.MessageParams = WithFiles(data.MessageParams, files)
		cp.Data = &data
		body = &cp
	}
	return c.do(ctx, &request{
		method: "POST", route: "/interactions/{interaction.id}/{interaction.token}/callback",
		major: id.String(), path: "/interactions/" + id.String() + "/" + url.PathEscape(token) + "/callback",
		body: body, files: files,
	}, nil)
}

// CreateFollowup sends a follow-up message for an interaction (POST
// /webhooks/{application.id}/{token}?wait=true) and returns it. The token
// works for 15 minutes after the interaction.
func (c *Client) CreateFollowup(ctx context.Context, appID discord.Snowflake, token string, p *discord.MessageParams, files ...File) (*discord.Message, error) {
	var m discord.Message
	body := WithFiles(*p, files)
	err := c.do(ctx, &request{
		method: "POST", route: "/webhooks/{application.id}/{interaction.token}",
		major: appID.String() + "/" + token, path: webhookPath(appID, token), query: "wait=true",
		body: &body, files: files,
	}, &m)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// EditOriginal edits the interaction's first response (PATCH
// /webhooks/{application.id}/{token}/messages/@original) — the way to
// deliver a message after a deferred response — and returns it.
func (c *Client) EditOriginal(ctx context.Context, appID discord.Snowflake, token string, p *discord.MessageParams, files ...File) (*discord.Message, error) {
	var m discord.Message
	body := WithFiles(*p, files)
	err := c.do(ctx, &request{
		method: "PATCH", route: "/webhooks/{application.id}/{interaction.token}/messages/@original",
		major: appID.String() + "/" + token, path: webhookPath(appID, token) + "/messages/@original",
		body: &body, files: files,
	}, &m)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func webhookPath(appID discord.Snowflake, token string) string {
	return "/webhooks/" + appID.String() + "/" + url.PathEscape(token)
}

// CreateMessage posts a message in a channel (POST
// /channels/{channel.id}/messages). It needs the bot token.
func (c *Client) CreateMessage(ctx context.Context, channelID discord.Snowflake, p *discord.MessageParams, files ...File) (*discord.Message, error) {
	var m discord.Message
	body := WithFiles(*p, files)
	err := c.do(ctx, &request{
		method: "POST", route: "/channels/{channel.id}/messages", major: channelID.String(),
		path: "/channels/" + channelID.String() + "/messages", auth: true, body: &body, files: files,
	}, &m)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// GatewayBot returns the gateway URL, the recommended shard count and the
// session start limit (GET /gateway/bot). It needs the bot token.
func (c *Client) GatewayBot(ctx context.Context) (*discord.GatewayBot, error) {
	var g discord.GatewayBot
	if err := c.do(ctx, &request{method: "GET", route: "/gateway/bot", path: "/gateway/bot", auth: true}, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// CurrentApplication returns the bot's application (GET
// /applications/@me), whose VerifyKey is the interactions public key. It
// needs the bot token.
func (c *Client) CurrentApplication(ctx context.Context) (*discord.Application, error) {
	var a discord.Application
	if err := c.do(ctx, &request{method: "GET", route: "/applications/@me", path: "/applications/@me", auth: true}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}
