package interactions

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/ipcord/ipcord/discord"
)

// ErrLimit is matched by every *LimitError.
var ErrLimit = errors.New("interactions: response breaks a Discord limit")

// LimitError says which of Discord's limits a response breaks.
type LimitError struct {
	Field string // like "content" or "embeds[0].fields"
	Limit int
	Got   int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("interactions: %s is %d, limit %d", e.Field, e.Got, e.Limit)
}

// Unwrap makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Unwrap() error { return ErrLimit }

// ErrEmptyMessage is returned by Validate for a message with nothing in it.
var ErrEmptyMessage = errors.New("interactions: message has no content, embeds, components or files")

// ErrInvalidResponse is returned when a response's type cannot answer the
// interaction (a modal for an autocomplete, an update for a command...).
var ErrInvalidResponse = errors.New("interactions: response type not allowed here")

type limitChecker struct{ err error }

func (c *limitChecker) check(field string, got, limit int) {
	if c.err == nil && got > limit {
		c.err = &LimitError{Field: field, Limit: limit, Got: got}
	}
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// Validate checks r against Discord's documented limits (lengths counted
// in characters) so a breach is a typed error here rather than a 400 from
// Discord after the deadline.
func (r *Response) Validate() error {
	c := &limitChecker{}
	d := &r.Data
	switch r.Type {
	case discord.ResponseMessage, discord.ResponseUpdateMessage:
		if r.Type == discord.ResponseMessage && d.Content == "" && len(d.Embeds) == 0 && len(d.Components) == 0 && len(r.Files) == 0 {
			return ErrEmptyMessage
		}
		checkMessage(c, &d.MessageParams, len(r.Files))
	case discord.ResponseDeferredMessage, discord.ResponseDeferredUpdate, discord.ResponsePong,
		discord.ResponseLaunchActivity, discord.ResponsePremiumRequired:
	case discord.ResponseAutocompleteResult:
		c.check("choices", len(d.Choices), 25)
		for i, ch := range d.Choices {
			n := runes(ch.Name)
			if n == 0 {
				c.check(fmt.Sprintf("choices[%d].name (empty)", i), 1, 0)
			}
			c.check(fmt.Sprintf("choices[%d].name", i), n, 100)
			if s, ok := ch.Value.(string); ok {
				c.check(fmt.Sprintf("choices[%d].value", i), runes(s), 100)
			}
		}
	case discord.ResponseModal:
		c.check("title", runes(d.Title), 45)
		c.check("custom_id", runes(d.CustomID), 100)
		c.check("components", len(d.Components), 5)
		if len(d.Components) == 0 {
			c.check("components (none)", 1, 0)
		}
		checkComponents(c, "components", d.Components, 0)
	default:
		return fmt.Errorf("%w: unknown response type %d", ErrInvalidResponse, r.Type)
	}
	return c.err
}

func checkMessage(c *limitChecker, p *discord.MessageParams, files int) {
	c.check("content", runes(p.Content), 2000)
	c.check("embeds", len(p.Embeds), 10)
	c.check("files", files+len(p.Attachments), 10)
	total := 0
	for i, e := range p.Embeds {
		f := func(s string) string { return fmt.Sprintf("embeds[%d].%s", i, s) }
		c.check(f("title"), runes(e.Title), 256)
		c.check(f("description"), runes(e.Description), 4096)
		c.check(f("fields"), len(e.Fields), 25)
		total += runes(e.Title) + runes(e.Description)
		for j, fl := range e.Fields {
			c.check(f(fmt.Sprintf("fields[%d].name", j)), runes(fl.Name), 256)
			c.check(f(fmt.Sprintf("fields[%d].value", j)), runes(fl.Value), 1024)
			total += runes(fl.Name) + runes(fl.Value)
		}
		if e.Footer != nil {
			c.check(f("footer.text"), runes(e.Footer.Text), 2048)
			total += runes(e.Footer.Text)
		}
		if e.Author != nil {
			c.check(f("author.name"), runes(e.Author.Name), 256)
			total += runes(e.Author.Name)
		}
	}
	c.check("embeds (total characters)", total, 6000)
	if p.Flags&discord.MessageFlagIsComponentsV2 == 0 {
		c.check("components", len(p.Components), 5)
	} else {
		c.check("components", len(p.Components), 40)
	}
	checkComponents(c, "components", p.Components, 0)
}

func checkComponents(c *limitChecker, path string, cs []discord.Component, depth int) {
	if depth > 4 {
		c.check(path+" (nesting)", depth, 4)
		return
	}
	for i := range cs {
		cp := &cs[i]
		at := fmt.Sprintf("%s[%d]", path, i)
		c.check(at+".custom_id", runes(cp.CustomID), 100)
		switch cp.Type {
		case discord.ComponentActionRow:
			c.check(at+".components", len(cp.Components), 5)
		case discord.ComponentButton:
			c.check(at+".label", runes(cp.Label), 80)
		case discord.ComponentStringSelect:
			c.check(at+".options", len(cp.Options), 25)
			c.check(at+".placeholder", runes(cp.Placeholder), 150)
		case discord.ComponentTextInput:
			c.check(at+".label", runes(cp.Label), 45)
			c.check(at+".max_length", cp.MaxLength, 4000)
			c.check(at+".value", runes(cp.Value), 4000)
			c.check(at+".placeholder", runes(cp.Placeholder), 100)
		}
		if cp.Type.IsSelect() {
			c.check(at+".max_values", cp.MaxValues, 25)
		}
		checkComponents(c, at+".components", cp.Components, depth+1)
		if cp.Component != nil {
			checkComponents(c, at+".component", []discord.Component{*cp.Component}, depth+1)
		}
	}
}

// allowed reports whether a response type can answer an interaction type.
func allowed(it discord.InteractionType, rt discord.InteractionResponseType) bool {
	switch it {
	case discord.InteractionApplicationCommand:
		return rt == discord.ResponseMessage || rt == discord.ResponseDeferredMessage || rt == discord.ResponseModal ||
			rt == discord.ResponseLaunchActivity || rt == discord.ResponsePremiumRequired
	case discord.InteractionMessageComponent:
		return rt >= discord.ResponseMessage && rt <= discord.ResponseUpdateMessage || rt == discord.ResponseModal ||
			rt == discord.ResponseLaunchActivity || rt == discord.ResponsePremiumRequired
	case discord.InteractionAutocomplete:
		return rt == discord.ResponseAutocompleteResult
	case discord.InteractionModalSubmit:
		return rt >= discord.ResponseMessage && rt <= discord.ResponseUpdateMessage || rt == discord.ResponsePremiumRequired
	}
	return false
}
