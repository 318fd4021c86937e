package rest

import (
	"context"
	"net/url"

	"github.com/ipcord/ipcord/discord"
)

// CreateInteractionResponse answers an interaction through the callback
// route (POST /interactions/{id}/{token}/callback), the alternative to
// answering in the HTTP reply and the only way for an interaction received
// over the gateway. It needs no bot token.
func (c *Client) CreateInteractionResponse(ctx context.Context, id discord.Snowflake, token string, resp *discord.InteractionResponse, files ...File) error {
	return c.callback(ctx, id, token, resp, files, "", nil)
}

// CreateInteractionResponseWithResponse is CreateInteractionResponse with
// with_response=true: Discord returns the interaction and what the
// response created (the message's ID, or the launched Activity).
func (c *Client) CreateInteractionResponseWithResponse(ctx context.Context, id discord.Snowflake, token string, resp *discord.InteractionResponse, files ...File) (*discord.InteractionCallbackResponse, error) {
	var out discord.InteractionCallbackResponse
	if err := c.callback(ctx, id, token, resp, files, "with_response=true", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) callback(ctx context.Context, id discord.Snowflake, token string, resp *discord.InteractionResponse, files []File, query string, out any) error {
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
		query: query, body: body, files: files,
	}, out)
}

// CreateFollowup sends a follow-up message for an interaction (POST
// /webhooks/{application.id}/{token}?wait=true) and returns it. The token
// works for 15 minutes after the interaction.
func (c *Client) CreateFollowup(ctx context.Context, appID discord.Snowflake, token string, p *discord.MessageParams, files ...File) (*discord.Message, error) {
	return c.webhookMessage(ctx, "POST", appID, token, "", p, files)
}

// GetOriginal returns the interaction's first response (GET
// /webhooks/{application.id}/{token}/messages/@original).
func (c *Client) GetOriginal(ctx context.Context, appID discord.Snowflake, token string) (*discord.Message, error) {
	return c.webhookMessage(ctx, "GET", appID, token, "@original", nil, nil)
}

// EditOriginal edits the interaction's first response (PATCH
// /webhooks/{application.id}/{token}/messages/@original) — the way to
// deliver a message after a deferred response — and returns it.
func (c *Client) EditOriginal(ctx context.Context, appID discord.Snowflake, token string, p *discord.MessageParams, files ...File) (*discord.Message, error) {
	return c.webhookMessage(ctx, "PATCH", appID, token, "@original", p, files)
}

// DeleteOriginal deletes the interaction's first response (DELETE
// /webhooks/{application.id}/{token}/messages/@original).
func (c *Client) DeleteOriginal(ctx context.Context, appID discord.Snowflake, token string) error {
	_, err := c.webhookMessage(ctx, "DELETE", appID, token, "@original", nil, nil)
	return err
}

// GetFollowup returns a follow-up message sent with the interaction's
// token.
func (c *Client) GetFollowup(ctx context.Context, appID discord.Snowflake, token string, messageID discord.Snowflake) (*discord.Message, error) {
	return c.webhookMessage(ctx, "GET", appID, token, messageID.String(), nil, nil)
}

// EditFollowup edits a follow-up message (PATCH
// /webhooks/{application.id}/{token}/messages/{message.id}) and returns it.
func (c *Client) EditFollowup(ctx context.Context, appID discord.Snowflake, token string, messageID discord.Snowflake, p *discord.MessageParams, files ...File) (*discord.Message, error) {
	return c.webhookMessage(ctx, "PATCH", appID, token, messageID.String(), p, files)
}

// DeleteFollowup deletes a follow-up message.
func (c *Client) DeleteFollowup(ctx context.Context, appID discord.Snowflake, token string, messageID discord.Snowflake) error {
	_, err := c.webhookMessage(ctx, "DELETE", appID, token, messageID.String(), nil, nil)
	return err
}

// webhookMessage calls one of the interaction token's message routes:
// the follow-up route when message is "", else messages/{message}. A
// DELETE returns no message.
func (c *Client) webhookMessage(ctx context.Context, method string, appID discord.Snowflake, token, message string, p *discord.MessageParams, files []File) (*discord.Message, error) {
	r := &request{
		method: method, route: "/webhooks/{application.id}/{interaction.token}",
		major: appID.String() + "/" + token, path: webhookPath(appID, token),
	}
	switch message {
	case "":
		r.query = "wait=true"
	case "@original":
		r.route += "/messages/@original"
		r.path += "/messages/@original"
	default:
		r.route += "/messages/{message.id}"
		r.path += "/messages/" + message
	}
	if p != nil {
		body := WithFiles(*p, files)
		r.body, r.files = &body, files
	}
	if method == "DELETE" {
		return nil, c.do(ctx, r, nil)
	}
	var m discord.Message
	if err := c.do(ctx, r, &m); err != nil {
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

// Application commands. guildID zero means the global commands; a guild's
// commands update at once, global ones are shared by every guild. All of
// these need the bot token.

func commandsPath(appID, guildID discord.Snowflake) (route, path string) {
	if guildID == 0 {
		return "/applications/{application.id}/commands", "/applications/" + appID.String() + "/commands"
	}
	return "/applications/{application.id}/guilds/{guild.id}/commands",
		"/applications/" + appID.String() + "/guilds/" + guildID.String() + "/commands"
}

// Commands lists the application's commands (global when guildID is zero).
func (c *Client) Commands(ctx context.Context, appID, guildID discord.Snowflake) ([]discord.ApplicationCommand, error) {
	route, path := commandsPath(appID, guildID)
	var out []discord.ApplicationCommand
	err := c.do(ctx, &request{method: "GET", route: route, major: appID.String(), path: path, auth: true}, &out)
	return out, err
}

// CreateCommand creates a command, or replaces the one of the same name and
// type, and returns it.
func (c *Client) CreateCommand(ctx context.Context, appID, guildID discord.Snowflake, cmd *discord.ApplicationCommand) (*discord.ApplicationCommand, error) {
	route, path := commandsPath(appID, guildID)
	var out discord.ApplicationCommand
	if err := c.do(ctx, &request{method: "POST", route: route, major: appID.String(), path: path, auth: true, body: cmd}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCommand deletes one command.
func (c *Client) DeleteCommand(ctx context.Context, appID, guildID, commandID discord.Snowflake) error {
	route, path := commandsPath(appID, guildID)
	return c.do(ctx, &request{method: "DELETE", route: route + "/{command.id}", major: appID.String(),
		path: path + "/" + commandID.String(), auth: true}, nil)
}

// OverwriteCommands replaces all the application's commands (global when
// guildID is zero) with cmds in one call, and returns them as registered.
// An empty list deletes them all.
func (c *Client) OverwriteCommands(ctx context.Context, appID, guildID discord.Snowflake, cmds []discord.ApplicationCommand) ([]discord.ApplicationCommand, error) {
	route, path := commandsPath(appID, guildID)
	if cmds == nil {
		cmds = []discord.ApplicationCommand{}
	}
	var out []discord.ApplicationCommand
	err := c.do(ctx, &request{method: "PUT", route: route, major: appID.String(), path: path, auth: true, body: cmds}, &out)
	return out, err
}
