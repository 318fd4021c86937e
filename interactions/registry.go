package interactions

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/ipcord/ipcord/discord"
)

// Listener handles one interaction and returns its response. It runs on a
// context detached from the HTTP request whose deadline is
// Config.ListenerTimeout after arrival; if it takes longer than
// Config.DeferAfter, the endpoint defers for it and delivers the response
// when it comes (see the package documentation).
type Listener func(ctx context.Context, ev *Event) (*Response, error)

// Flag modifies a listener registration.
type Flag uint8

const (
	// Ephemeral makes the automatic defer of a command or modal submit
	// ephemeral (only the user sees the answer).
	Ephemeral Flag = 1 << iota
	// Replace lets the registration replace an existing listener for the
	// same key instead of failing with ErrDuplicate.
	Replace
)

// ErrDuplicate is returned when a listener is registered twice for the
// same key without Replace.
var ErrDuplicate = errors.New("interactions: a listener is already registered for this key")

// ErrBadKey is returned for an empty name, custom ID or prefix.
var ErrBadKey = errors.New("interactions: empty listener key")

type entry struct {
	l         Listener
	ephemeral bool
	key       string
}

type commandKey struct {
	t    discord.CommandType
	path string
}

type prefixEntry struct {
	prefix string
	e      *entry
}

// registry holds the listeners. Reads (per request) take the read lock.
type registry struct {
	mu           sync.RWMutex
	commands     map[commandKey]*entry
	autocomplete map[string]*entry
	components   map[string]*entry
	compPrefixes []prefixEntry // longest first
	modals       map[string]*entry
	modalPrefix  []prefixEntry
}

func (r *registry) init() {
	r.commands = map[commandKey]*entry{}
	r.autocomplete = map[string]*entry{}
	r.components = map[string]*entry{}
	r.modals = map[string]*entry{}
}

func newEntry(l Listener, key string, flags []Flag) (*entry, bool) {
	var f Flag
	for _, x := range flags {
		f |= x
	}
	return &entry{l: l, ephemeral: f&Ephemeral != 0, key: key}, f&Replace != 0
}

// normalizePath turns "config  role add" into "config role add".
func normalizePath(name string) string { return strings.Join(strings.Fields(name), " ") }

func put[K comparable](m map[K]*entry, k K, e *entry, replace bool, what string) error {
	if _, dup := m[k]; dup && !replace {
		return fmt.Errorf("%w: %s %q", ErrDuplicate, what, e.key)
	}
	m[k] = e
	return nil
}

// Command registers l for the application command of type t whose full
// name is name: the command, then the subcommand group and subcommand when
// present, separated by spaces ("config role add"). Context menu commands
// use their display name with t CommandUser or CommandMessage.
func (e *Endpoint) Command(t discord.CommandType, name string, l Listener, flags ...Flag) error {
	p := name
	if t == discord.CommandChatInput {
		p = normalizePath(name)
	}
	if p == "" || l == nil {
		return ErrBadKey
	}
	en, replace := newEntry(l, p, flags)
	e.reg.mu.Lock()
	defer e.reg.mu.Unlock()
	return put(e.reg.commands, commandKey{t, p}, en, replace, "command")
}

// Autocomplete registers l for the autocomplete of the chat-input command
// with full name name (as in Command). It answers with Choices.
func (e *Endpoint) Autocomplete(name string, l Listener, flags ...Flag) error {
	p := normalizePath(name)
	if p == "" || l == nil {
		return ErrBadKey
	}
	en, replace := newEntry(l, p, flags)
	e.reg.mu.Lock()
	defer e.reg.mu.Unlock()
	return put(e.reg.autocomplete, p, en, replace, "autocomplete")
}

// Component registers l for the components whose custom_id is customID.
func (e *Endpoint) Component(customID string, l Listener, flags ...Flag) error {
	return e.exact(e.reg.components, customID, l, flags, "component")
}

// ComponentPrefix registers l for the components whose custom_id starts
// with prefix and that no exact registration claims; the longest matching
// prefix wins.
func (e *Endpoint) ComponentPrefix(prefix string, l Listener, flags ...Flag) error {
	return e.prefix(&e.reg.compPrefixes, prefix, l, flags, "component prefix")
}

// Modal registers l for the modal submits whose custom_id is customID.
func (e *Endpoint) Modal(customID string, l Listener, flags ...Flag) error {
	return e.exact(e.reg.modals, customID, l, flags, "modal")
}

// ModalPrefix registers l for modal submits by custom_id prefix, as
// ComponentPrefix.
func (e *Endpoint) ModalPrefix(prefix string, l Listener, flags ...Flag) error {
	return e.prefix(&e.reg.modalPrefix, prefix, l, flags, "modal prefix")
}

func (e *Endpoint) exact(m map[string]*entry, id string, l Listener, flags []Flag, what string) error {
	if id == "" || l == nil {
		return ErrBadKey
	}
	en, replace := newEntry(l, id, flags)
	e.reg.mu.Lock()
	defer e.reg.mu.Unlock()
	return put(m, id, en, replace, what)
}

func (e *Endpoint) prefix(list *[]prefixEntry, prefix string, l Listener, flags []Flag, what string) error {
	if prefix == "" || l == nil {
		return ErrBadKey
	}
	en, replace := newEntry(l, prefix, flags)
	e.reg.mu.Lock()
	defer e.reg.mu.Unlock()
	for i := range *list {
		if (*list)[i].prefix == prefix {
			if !replace {
				return fmt.Errorf("%w: %s %q", ErrDuplicate, what, prefix)
			}
			(*list)[i].e = en
			return nil
		}
	}
	*list = append(*list, prefixEntry{prefix, en})
	sort.SliceStable(*list, func(i, j int) bool { return len((*list)[i].prefix) > len((*list)[j].prefix) })
	return nil
}

func lookupID(m map[string]*entry, prefixes []prefixEntry, id string) *entry {
	if en, ok := m[id]; ok {
		return en
	}
	for _, p := range prefixes {
		if strings.HasPrefix(id, p.prefix) {
			return p.e
		}
	}
	return nil
}

// find returns the listener for ev, or nil.
func (r *registry) find(ev *Event) *entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	switch ev.Interaction.Type {
	case discord.InteractionApplicationCommand:
		t := ev.Command.Type
		if t == 0 {
			t = discord.CommandChatInput // Discord always sends it; tolerate its absence
		}
		return r.commands[commandKey{t, ev.CommandName()}]
	case discord.InteractionAutocomplete:
		return r.autocomplete[ev.CommandName()]
	case discord.InteractionMessageComponent:
		return lookupID(r.components, r.compPrefixes, ev.Component.CustomID)
	case discord.InteractionModalSubmit:
		return lookupID(r.modals, r.modalPrefix, ev.Modal.CustomID)
	}
	return nil
}
