package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/report"
)

// tellFindings writes one line on stderr that says how many findings of
// which severity the scan made, how many are at or above --fail-on, and
// whether the scan is incomplete (what exit statuses 1 and 3 of scan
// mean), when the report itself does not show that to the person at the
// terminal: the report went to a file (-o) while stderr is a terminal, or
// the format is summary (which counts hosts, not findings). --quiet
// leaves it out.
func (f *scanFlags) tellFindings(res *ftpaudit.Result, stdout, stderr io.Writer) {
	if f.quiet {
		return
	}
	toFile := f.output != "" && f.output != "-" && isTerminal(stderr)
	if !toFile && f.outputFormat(stdout) != "summary" {
		return
	}
	failOn, _ := parseFailOn(f.failOn)
	fmt.Fprintln(stderr, "ftpaudit: "+findingsLine(res, failOn))
}

// findingsLine is tellFindings' line without the program name: "30
// findings (4 critical, 14 high, 8 medium, 0 low, 4 info); 18 at or above
// --fail-on high". It names no exit status: demo, which shares it, exits
// 0 when its scan ran.
func findingsLine(res *ftpaudit.Result, failOn ftpaudit.Severity) string {
	total := report.NewView(res).Total
	var b strings.Builder
	if total.Total() == 0 {
		b.WriteString("no findings")
	} else {
		var parts []string
		for s := ftpaudit.SevCritical; s >= ftpaudit.SevInfo; s-- {
			parts = append(parts, fmt.Sprintf("%d %s", total.Of(s), s))
		}
		if total.Unknown > 0 {
			parts = append(parts, fmt.Sprintf("%d of unknown severity", total.Unknown))
		}
		fmt.Fprintf(&b, "%s (%s)", plural(int64(total.Total()), "finding"), strings.Join(parts, ", "))
	}
	above := 0
	for _, fd := range res.Findings {
		if fd.Severity >= failOn {
			above++
		}
	}
	switch {
	case above > 0:
		fmt.Fprintf(&b, "; %d at or above --fail-on %s", above, failOn)
	case total.Total() > 0:
		fmt.Fprintf(&b, "; none at or above --fail-on %s", failOn)
	}
	if !res.Complete() {
		b.WriteString("; the scan is incomplete")
	}
	return b.String()
}

// Logs. --log-format auto (the default) writes each log line as a sentence
// for the person at the terminal when stderr is one ("ftpaudit: warning:
// ftp://h is incomplete (listings failed); 16 dirs, 24 files walked, 3
// unreadable, 0 errors, in 21ms"), and slog's key=value text otherwise;
// --log-format text and json always give machines theirs.

// statusLogger is the logger on stderr w for --log-format format and
// --log-level level: sentences when format is auto (or empty) and w is a
// terminal.
func statusLogger(w io.Writer, format, level string) *slog.Logger {
	lv, err := parseLevel(level)
	if err != nil {
		lv = slog.LevelWarn
	}
	return slog.New(logHandler(w, format, lv, isTerminal(w)))
}

// logHandler is the handler for --log-format format at level lv; terminal
// says whether w is a terminal.
func logHandler(w io.Writer, format string, lv slog.Level, terminal bool) slog.Handler {
	o := &slog.HandlerOptions{Level: lv}
	switch {
	case format == "json":
		return slog.NewJSONHandler(w, o)
	case format == "text" || !terminal:
		return slog.NewTextHandler(w, o)
	}
	return &sentenceHandler{w: w, level: lv, mu: &sync.Mutex{}}
}

// sentenceHandler writes each record as one line of prose: the program's
// name, "warning: " or "error: " (or "debug: "), and the message with its
// attributes said in words (sentence). Server text in them is escaped as
// the table escapes it, so that no log line can move the cursor.
type sentenceHandler struct {
	w     io.Writer
	level slog.Level
	attrs []slog.Attr // from WithAttrs
	group string      // from WithGroup: the prefix of later keys
	mu    *sync.Mutex // shared by the handlers derived from one
}

var _ slog.Handler = (*sentenceHandler)(nil)

func (h *sentenceHandler) Enabled(_ context.Context, lv slog.Level) bool { return lv >= h.level }

func (h *sentenceHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := append([]slog.Attr{}, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, h.qualify(a))
		return true
	})
	var b strings.Builder
	b.WriteString("ftpaudit: ")
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(sentence(r.Message, attrs))
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *sentenceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr{}, h.attrs...)
	for _, a := range as {
		c.attrs = append(c.attrs, h.qualify(a))
	}
	return &c
}

func (h *sentenceHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

// qualify puts an attribute's key in the handler's group.
func (h *sentenceHandler) qualify(a slog.Attr) slog.Attr {
	a.Value = a.Value.Resolve()
	if h.group != "" {
		a.Key = h.group + a.Key
	}
	return a
}

// logAttrs are a record's attributes, looked up by key; what a sentence
// does not say in words is added at its end.
type logAttrs struct {
	list []slog.Attr
	used map[string]bool
}

// has reports whether the record has key.
func (a *logAttrs) has(key string) bool {
	for _, x := range a.list {
		if x.Key == key {
			return true
		}
	}
	return false
}

// text is the value of key as text (escaped: it may be the server's),
// marked as said; "" when there is none.
func (a *logAttrs) text(key string) string {
	for _, x := range a.list {
		if x.Key == key {
			a.used[key] = true
			return report.DisplayText(x.Value.String())
		}
	}
	return ""
}

// count is "N things" for an integer key, with the plural right.
func (a *logAttrs) count(key, what string) string {
	for _, x := range a.list {
		if x.Key == key && x.Value.Kind() == slog.KindInt64 {
			a.used[key] = true
			return plural(x.Value.Int64(), what)
		}
	}
	return ""
}

// name is the target a record is about: its host URL and start directory
// (unless the root), escaped as a name.
func (a *logAttrs) name() string {
	host, start := "", ""
	for _, x := range a.list {
		switch x.Key {
		case "host":
			host = x.Value.String()
		case "start":
			start = x.Value.String()
		}
	}
	a.used["host"], a.used["start"] = true, true
	if start != "" && start != "/" {
		host += start
	}
	return report.Display(host)
}

// walked says how much of a host was walked, from the attributes logHosts
// gives: "16 dirs, 24 files walked, 3 unreadable, 0 errors, in 21ms".
func (a *logAttrs) walked() string {
	parts := []string{}
	for _, c := range []struct{ key, what string }{{"dirs", "dir"}, {"files", "file"}} {
		if s := a.count(c.key, c.what); s != "" {
			parts = append(parts, s)
		}
	}
	out := strings.Join(parts, ", ")
	if out != "" {
		out += " walked"
	}
	if a.has("unreadable") {
		a.used["unreadable"] = true
		out += ", " + a.text("unreadable") + " unreadable"
	}
	if s := a.count("errors", "error"); s != "" {
		out += ", " + s
	}
	if d := a.text("duration"); d != "" {
		out += ", in " + d
	}
	a.used["complete"] = true // the sentence says it
	return strings.TrimPrefix(out, ", ")
}

// rest says the attributes a sentence did not, in words: "(strings 2,
// user bob)", or ": the error" for an error; "" when there are none.
func (a *logAttrs) rest() string {
	var out, errText string
	var parts []string
	for _, x := range a.list {
		if a.used[x.Key] {
			continue
		}
		a.used[x.Key] = true
		v := report.DisplayText(x.Value.String())
		if x.Key == "error" || x.Key == "warning" {
			errText = v
			continue
		}
		parts = append(parts, strings.ReplaceAll(x.Key, "_", " ")+" "+v)
	}
	if errText != "" {
		out = ": " + errText
	}
	if len(parts) > 0 {
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	return out
}

// sentence says a log record in words: the messages ftpaudit logs (scan.go)
// as sentences of their own, any other as the message followed by its
// attributes in words. Nothing in it is written key=value.
func sentence(msg string, list []slog.Attr) string {
	a := &logAttrs{list: list, used: map[string]bool{}}
	var s string
	switch msg {
	case "scan start":
		s = "scanning " + a.name()
		if user := a.text("user"); user != "" {
			s += " as " + user
		}
		for _, x := range list {
			if x.Key == "tls" && x.Value.Kind() == slog.KindBool {
				a.used["tls"] = true
				if x.Value.Bool() {
					s += ", over TLS"
				}
			}
		}
	case "host done":
		s = a.name() + " is complete"
		if w := a.walked(); w != "" {
			s += ": " + w
		}
	case "host incomplete":
		s = a.name() + " is incomplete"
		if why := a.text("reasons"); why != "" {
			s += " (" + why + ")"
		}
		if w := a.walked(); w != "" {
			s += "; " + w
		}
	case "host failed":
		s = a.name() + " failed"
		if e := a.text("error"); e != "" {
			s += ": " + e
		}
		if d := a.text("duration"); d != "" {
			s += " (after " + d + ")"
		}
		for _, k := range []string{"complete", "dirs", "files", "unreadable", "errors"} {
			a.used[k] = true // nothing was walked
		}
	case "listing error":
		s = a.name() + ": listing " + report.Display(a.rawText("path")) + " failed"
		if e := a.text("error"); e != "" {
			s += ": " + e
		}
	case "hosts file":
		s = "hosts file: " + a.text("warning")
	default:
		s = report.DisplayText(msg)
	}
	return s + a.rest()
}

// rawText is the value of key unescaped (for a name that is escaped with
// report.Display), marked as said.
func (a *logAttrs) rawText(key string) string {
	for _, x := range a.list {
		if x.Key == key {
			a.used[key] = true
			return x.Value.String()
		}
	}
	return ""
}
