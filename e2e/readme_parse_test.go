package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The README's executable contract, as TestREADME reads it:
//
//   - Every ```sh (or bash, shell) block runs line by line, in README order,
//     in one bash session at the root of a fresh clone, so a variable or an
//     export of an earlier line is there for the later ones. Blank lines
//     and comment lines are skipped; a line ending in '\' continues.
//   - A line's comment may say what it prints: "# → TEXT" means its output
//     (stdout and stderr) has a line containing TEXT, where "…" stands for
//     anything. "exits N" in the comment expects that exit status (else 0).
//   - A line ending in '&' keeps running in the background until the end of
//     the README; with "→ TEXT", the next line waits until it printed TEXT.
//   - A line whose comment says "until Ctrl-C" keeps running too, while the
//     rest of its block runs (or, when it is the block's last line, the next
//     block), and is then interrupted as a user would with Ctrl-C.
//   - Every ```go block is compiled and run: a whole program when it starts
//     with "package", else the body of main, with the imports its
//     identifiers name. "// → TEXT" and "until Ctrl-C" comments mean what
//     they mean for shell lines.
//   - `go test` lines are built, not run (-run '^$' is added): .ci/run runs
//     the tests themselves.

// step is one shell command or Go snippet of the README.
type step struct {
	line    int    // 1-based line in README.md where it starts
	block   int    // index of its code block
	lang    string // "sh" or "go"
	code    string // the command (without its comment), or the Go source
	expect  []*regexp.Regexp
	texts   []string // the → texts, for messages
	exit    int      // expected exit status
	bg      bool     // ends in '&': runs until the README's end
	untilC  bool     // "until Ctrl-C"
	lastInB bool     // the last step of its block
}

func (s step) String() string {
	return fmt.Sprintf("README.md:%d: %s", s.line, strings.SplitN(s.code, "\n", 2)[0])
}

var (
	fenceRE  = regexp.MustCompile("^```([A-Za-z]*)\\s*$")
	exitsRE  = regexp.MustCompile(`\bexits ([0-9]+)\b`)
	ctrlCRE  = regexp.MustCompile(`(?i)until ctrl-c`)
	goArrowR = regexp.MustCompile(`//\s*→\s*(.*)$`)
)

// parseREADME returns the steps of a README, in order.
func parseREADME(readme string) ([]step, error) {
	var steps []step
	lines := strings.Split(readme, "\n")
	block := -1
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		lang := m[1]
		start := i + 1
		end := start
		for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("README.md:%d: code block never closed", i+1)
		}
		body := lines[start:end]
		i = end
		switch lang {
		case "sh", "bash", "shell":
			block++
			n := len(steps)
			for j := 0; j < len(body); j++ {
				l := strings.TrimSpace(body[j])
				if l == "" || strings.HasPrefix(l, "#") {
					continue
				}
				first := j
				for strings.HasSuffix(l, `\`) && j+1 < len(body) {
					j++
					l += "\n" + body[j]
				}
				s, err := shellStep(l)
				if err != nil {
					return nil, fmt.Errorf("README.md:%d: %v", start+first+1, err)
				}
				s.line, s.block = start+first+1, block
				steps = append(steps, s)
			}
			if len(steps) > n {
				steps[len(steps)-1].lastInB = true
			}
		case "go":
			block++
			src := strings.Join(body, "\n")
			s := step{line: start + 1, block: block, lang: "go", code: src, lastInB: true}
			for _, l := range body {
				if m := goArrowR.FindStringSubmatch(l); m != nil {
					s.texts = append(s.texts, strings.TrimSpace(m[1]))
				}
				if c := strings.Index(l, "//"); c >= 0 && ctrlCRE.MatchString(l[c:]) {
					s.untilC = true
				}
			}
			for _, t := range s.texts {
				s.expect = append(s.expect, pattern(t))
			}
			steps = append(steps, s)
		}
	}
	return steps, nil
}

// shellStep splits a shell line into its command and what its comment says.
func shellStep(l string) (step, error) {
	s := step{lang: "sh"}
	code, comment := splitComment(l)
	code = strings.TrimSpace(code)
	if strings.HasSuffix(code, "&") && !strings.HasSuffix(code, "&&") {
		s.bg = true
		code = strings.TrimSpace(strings.TrimSuffix(code, "&"))
	}
	s.code = code
	if c, text, ok := strings.Cut(comment, "→"); ok {
		_ = c
		t := strings.TrimSpace(text)
		if t == "" {
			return s, fmt.Errorf("an empty → in %q", l)
		}
		s.texts = []string{t}
		s.expect = []*regexp.Regexp{pattern(t)}
	}
	if m := exitsRE.FindStringSubmatch(comment); m != nil {
		s.exit, _ = strconv.Atoi(m[1])
	}
	s.untilC = ctrlCRE.MatchString(comment)
	if s.untilC && s.bg {
		return s, fmt.Errorf("a line is either '&' or 'until Ctrl-C', not both: %q", l)
	}
	return s, nil
}

// splitComment cuts a shell line at its comment: a '#' after white space,
// outside quotes.
func splitComment(l string) (code, comment string) {
	var quote byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '\\':
			i++
		case c == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
			return l[:i], l[i+1:]
		}
	}
	return l, ""
}

// pattern makes a → text a regexp: literal, with "…" matching anything on
// the line.
func pattern(text string) *regexp.Regexp {
	parts := strings.Split(text, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("(?m)" + strings.Join(parts, ".*"))
}

// goImports maps the package names a snippet may use to their import paths.
var goImports = map[string]string{
	"context": "context", "errors": "errors", "fmt": "fmt", "io": "io", "json": "encoding/json",
	"log": "log", "net": "net", "http": "net/http", "url": "net/url", "os": "os", "strings": "strings",
	"time": "time", "hex": "encoding/hex", "ed25519": "crypto/ed25519", "slog": "log/slog",
	"ipc":          "github.com/ipcord/ipcord/ipc",
	"natsipc":      "github.com/ipcord/ipcord/ipc/natsipc",
	"gateway":      "github.com/ipcord/ipcord/gateway",
	"shard":        "github.com/ipcord/ipcord/gateway/shard",
	"interactions": "github.com/ipcord/ipcord/interactions",
	"discord":      "github.com/ipcord/ipcord/discord",
	"rest":         "github.com/ipcord/ipcord/rest",
	"discordtest":  "github.com/ipcord/ipcord/discordtest",
}

var selectorRE = regexp.MustCompile(`(?:^|[^.\w])([a-z][a-z0-9]*)\.[A-Za-z_]`)

// goProgram returns the program a Go snippet stands for: itself when it is
// one, else a main whose body it is, importing the packages it names.
func goProgram(src string) string {
	if strings.HasPrefix(strings.TrimSpace(src), "package ") {
		return src
	}
	used := map[string]bool{}
	for _, l := range strings.Split(src, "\n") {
		if c := strings.Index(l, "//"); c >= 0 {
			l = l[:c]
		}
		for _, m := range selectorRE.FindAllStringSubmatch(l, -1) {
			if _, ok := goImports[m[1]]; ok {
				used[m[1]] = true
			}
		}
	}
	var paths []string
	for name := range used {
		paths = append(paths, strconv.Quote(goImports[name]))
	}
	sort.Strings(paths)
	return "package main\n\nimport (\n\t" + strings.Join(paths, "\n\t") + "\n)\n\nfunc main() {\n" + src + "\n}\n"
}
