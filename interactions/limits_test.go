package interactions_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ipcord/ipcord/discord"
	"github.com/ipcord/ipcord/interactions"
	"github.com/ipcord/ipcord/rest"
)

func TestValidateLimits(t *testing.T) {
	choices := make([]discord.CommandOptionChoice, 26)
	for i := range choices {
		choices[i] = discord.CommandOptionChoice{Name: "c", Value: i}
	}
	fields := make([]discord.EmbedField, 26)
	buttons := make([]discord.Component, 6)
	for i := range buttons {
		buttons[i] = discord.Button(discord.ButtonPrimary, "b", "id")
	}
	files := make([]rest.File, 11)
	tests := []struct {
		name  string
		r     *interactions.Response
		field string // "" means valid
	}{
		{"plain reply", interactions.Reply("hi"), ""},
		{"content 2000 runes", interactions.Reply(strings.Repeat("é", 2000)), ""},
		{"content 2001 runes", interactions.Reply(strings.Repeat("é", 2001)), "content"},
		{"11 embeds", interactions.Reply("x").WithEmbeds(make([]discord.Embed, 11)...), "embeds"},
		{"embed title", interactions.Reply("x").WithEmbeds(discord.Embed{Title: strings.Repeat("a", 257)}), "embeds[0].title"},
		{"26 fields", interactions.Reply("x").WithEmbeds(discord.Embed{Fields: fields}), "embeds[0].fields"},
		{"embed total", interactions.Reply("x").WithEmbeds(discord.Embed{Description: strings.Repeat("a", 4000)}, discord.Embed{Description: strings.Repeat("a", 2001)}), "embeds (total characters)"},
		{"6 buttons in a row", interactions.Reply("x").WithComponents(discord.ActionRow(buttons...)), "components[0].components"},
		{"long custom id", interactions.Reply("x").WithComponents(discord.ActionRow(discord.Button(1, "b", strings.Repeat("a", 101)))), "components[0].components[0].custom_id"},
		{"11 files", interactions.Reply("x").WithFiles(files...), "files"},
		{"26 choices", interactions.Choices(choices...), "choices"},
		{"no choices", interactions.Choices(), ""},
		{"modal title", interactions.Modal("m", strings.Repeat("t", 46), discord.ActionRow(discord.TextInput("a", "A", 1))), "title"},
		{"modal without inputs", interactions.Modal("m", "T"), "components (none)"},
		{"defer", interactions.DeferReply(true), ""},
	}
	for _, tt := range tests {
		err := tt.r.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var le *interactions.LimitError
		if !errors.As(err, &le) || le.Field != tt.field || !errors.Is(err, interactions.ErrLimit) {
			t.Errorf("%s: got %v, want a limit on %s", tt.name, err, tt.field)
		}
	}
	if err := (&interactions.Response{Type: discord.ResponseMessage}).Validate(); !errors.Is(err, interactions.ErrEmptyMessage) {
		t.Errorf("empty message: %v", err)
	}
}
