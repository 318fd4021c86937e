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

// ErrBadKey is returned for an empty name, custom ID or prefix, a nil
// listener, or a Key that names no kind of registration.
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
	catchAll     map[discord.InteractionType]*entry
	commands     map[commandKey]*entry
	autocomplete map[string]*entry
	components   map[string]*entry
	compPrefixes []prefixEntry // longest first
	modals       map[string]*entry
	modalPrefix  []prefixEntry
	defs         []discord.ApplicationCommand // Define's, for Commands
}

func (r *registry) init() {
	r.catchAll = map[discord.InteractionType]*entry{}
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

// Listen registers l as the catch-all for interactions of type t
// (command, component, autocomplete or modal submit): it gets each one
// that no more specific registration claims, as hikari's set_listener.
// A second catch-all for the same type fails with ErrDuplicate unless
// registered with Replace; Remove takes it away.
func (e *Endpoint) Listen(t discord.InteractionType, l Listener, flags ...Flag) error {
	if !listenable(t) || l == nil {
		return fmt.Errorf("%w: no catch-all for %v", ErrBadKey, t)
	}
	en, replace := newEntry(l, t.String(), flags)
	e.reg.mu.Lock()
	defer e.reg.mu.Unlock()
	return put(e.reg.catchAll, t, en, replace, "catch-all")
}

func listenable(t discord.InteractionType) bool {
	return t >= discord.InteractionApplicationCommand && t <= discord.InteractionModalSubmit
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

// find returns the listener for ev: the most specific registration, else
// the catch-all of its type, else nil.
func (r *registry) find(ev *Event) *entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var en *entry
	switch ev.Interaction.Type {
	case discord.InteractionApplicationCommand:
		t := ev.Command.Type
		if t == 0 {
			t = discord.CommandChatInput // Discord always sends it; tolerate its absence
		}
		en = r.commands[commandKey{t, ev.CommandName()}]
	case discord.InteractionAutocomplete:
		en = r.autocomplete[ev.CommandName()]
	case discord.InteractionMessageComponent:
		en = lookupID(r.components, r.compPrefixes, ev.Component.CustomID)
	case discord.InteractionModalSubmit:
		en = lookupID(r.modals, r.modalPrefix, ev.Modal.CustomID)
	}
	if en == nil {
		en = r.catchAll[ev.Interaction.Type]
	}
	return en
}

// Key names one registration, for Remove and Lookup.
type Key struct {
	// Type is the interaction type: command, component, autocomplete or
	// modal submit.
	Type discord.InteractionType
	// Command is the command type of a command registration (zero means
	// chat input).
	Command discord.CommandType
	// Name is the command's full name, the custom ID or the prefix; empty
	// names the type's catch-all (Listen).
	Name string
	// Prefix says Name is a custom ID prefix (ComponentPrefix, ModalPrefix).
	Prefix bool
}

// Remove unregisters the listener at k and reports whether there was one.
// Interactions already running keep their listener.
func (e *Endpoint) Remove(k Key) bool {
	e.reg.mu.Lock()
	defer e.reg.mu.Unlock()
	return e.reg.at(k, true) != nil
}

// Lookup returns the listener registered at k (not the one an interaction
// would fall back to: see Listen), and whether there is one.
func (e *Endpoint) Lookup(k Key) (Listener, bool) {
	e.reg.mu.RLock()
	defer e.reg.mu.RUnlock()
	if en := e.reg.at(k, false); en != nil {
		return en.l, true
	}
	return nil, false
}

// at finds, and with del removes, the entry at k.
func (r *registry) at(k Key, del bool) *entry {
	if k.Name == "" {
		return take(r.catchAll, k.Type, del)
	}
	switch k.Type {
	case discord.InteractionApplicationCommand:
		t, name := k.Command, k.Name
		if t == 0 {
			t = discord.CommandChatInput
		}
		if t == discord.CommandChatInput {
			name = normalizePath(name)
		}
		return take(r.commands, commandKey{t, name}, del)
	case discord.InteractionAutocomplete:
		return take(r.autocomplete, normalizePath(k.Name), del)
	case discord.InteractionMessageComponent:
		if k.Prefix {
			return takePrefix(&r.compPrefixes, k.Name, del)
		}
		return take(r.components, k.Name, del)
	case discord.InteractionModalSubmit:
		if k.Prefix {
			return takePrefix(&r.modalPrefix, k.Name, del)
		}
		return take(r.modals, k.Name, del)
	}
	return nil
}

func take[K comparable](m map[K]*entry, k K, del bool) *entry {
	en := m[k]
	if del {
		delete(m, k)
	}
	return en
}

func takePrefix(list *[]prefixEntry, prefix string, del bool) *entry {
	for i, p := range *list {
		if p.prefix == prefix {
			if del {
				*list = append((*list)[:i], (*list)[i+1:]...)
			}
			return p.e
		}
	}
	return nil
}
