package ftpconn

// A host's listing dialect: which form of LIST it understands, learned on
// the host's own directories and checked before it is relied on.
//
// Servers disagree on LIST's argument. vsftpd, proftpd and pure-ftpd read
// "LIST -a /pub" like ls; Twisted and pyftpdlib take "-a /pub" for one path
// and answer 550, though a bare "LIST -a" in the current directory works.
// So the host's first listing tries the forms in order (LIST -a PATH,
// CWD + LIST -a, LIST PATH, CWD + LIST) and keeps the first that lists;
// every refusal on the way (550 included) is recorded. A path form is then
// checked once on a directory below the root, listed both ways: a server
// that listed "/" right because "/" is where it was (it ignores the path)
// shows a different listing there, and the host falls back to the CWD
// form, whose CWD is checked with PWD on every directory. Until that check
// is done, other sessions use the CWD form. Once a form has listed a
// directory, a refusal is that directory's answer, not the form's: no
// other form is tried (but the check, on a refusal of the path form,
// tries the CWD twin, and moves the host to it if that lists entries).
// A form is moved to only on entries it listed: an empty listing after a
// refusal proves nothing (proftpd answers "LIST /dir" of an unreadable
// directory with an empty success).
//
// A form without -a may leave hidden names out. It is used only where
// the server refused both -a forms, and the host's coverage says so
// unless a hidden name was seen in one of its listings.

import (
	"bufio"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ftpaudit/ftpaudit"
)

// listForm is one way of asking for a directory's LIST.
type listForm int

const (
	formDashAPath listForm = iota // LIST -a PATH (a path that cannot go on the line: CWD + LIST -a)
	formCWDDashA                  // CWD PATH, PWD, LIST -a
	formPath                      // LIST PATH (or CWD + LIST)
	formCWD                       // CWD PATH, PWD, LIST
	numForms
)

func (f listForm) String() string {
	switch f {
	case formDashAPath:
		return "LIST -a PATH"
	case formCWDDashA:
		return "CWD PATH + LIST -a"
	case formPath:
		return "LIST PATH"
	case formCWD:
		return "CWD PATH + LIST"
	}
	return "?"
}

// dashA reports whether the form asks for hidden names.
func (f listForm) dashA() bool { return f == formDashAPath || f == formCWDDashA }

// cwd reports whether the form always enters the directory.
func (f listForm) cwd() bool { return f == formCWDDashA || f == formCWD }

// cwdTwin is the CWD form that asks the same as a path form.
func (f listForm) cwdTwin() listForm {
	if f == formPath {
		return formCWD
	}
	return formCWDDashA
}

// Path-form check states.
const (
	checkNone    = iota // not done yet
	checkRunning        // a session is checking
	checkDone           // passed
)

// maxRefusalsKept bounds the refusals a host's report keeps.
const maxRefusalsKept = 8

// dialectState is a host's listing dialect, shared by its sessions.
type dialectState struct {
	mu      sync.Mutex
	form    listForm
	settled bool // the form listed a directory
	check   int  // checkNone, checkRunning, checkDone (path forms only)
	refused []string
	hidden  bool // a hidden name was seen in a listing of the form in use
	note    string

	mlstAsked, mlstReply string

	dataErrors atomic.Int64 // listings whose data was an error message
}

// pick returns the form a session is to list dir with, and whether it is
// to run the path-form check on it (list it both ways).
func (d *dialectState) pick(dir string) (f listForm, check bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f = d.form
	if f.cwd() || !d.settled || d.check == checkDone || dir == "/" {
		return f, false
	}
	if d.check == checkNone {
		d.check = checkRunning
		return f, true
	}
	// Another session is checking the path form: the CWD form is safe
	// meanwhile.
	return f.cwdTwin(), false
}

// wouldSTAT reports, without changing anything, whether a session is to
// list dir with the path form "LIST -a DIR" (which STAT stands in for)
// and no check: what pick would answer now.
func (d *dialectState) wouldSTAT(dir string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.form == formDashAPath && (!d.settled || d.check == checkDone || dir == "/")
}

// current is the form in use.
func (d *dialectState) current() listForm {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.form
}

// isSettled reports whether the host's form has listed a directory: a
// refusal is then the directory's answer, not the form's.
func (d *dialectState) isSettled() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.settled
}

// listed records that f listed a directory. fellBack says an earlier
// form was refused for it first: the host then moves to f, if f comes
// after the form in use. (A session that lists in the CWD twin while
// another checks the path form moves nothing.)
func (d *dialectState) listed(f listForm, l *ftpaudit.Listing, fellBack bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if fellBack && f > d.form {
		d.form, d.hidden, d.check = f, false, checkNone
	}
	if f == d.form {
		d.settled = true
		if !d.hidden && hasHidden(l.Entries) {
			d.hidden = true
		}
	}
}

// refuse records that f was refused for dir.
func (d *dialectState) refuse(f listForm, dir string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.refused) < maxRefusalsKept {
		d.refused = append(d.refused, fmt.Sprintf("%s for %s: %s", f, ftpaudit.EvidenceName(dir), refusalText(err)))
	}
}

// checked ends a path-form check: passed, failed (the host moves to the
// CWD form, with why), or no answer (the next directory below the root
// checks again).
func (d *dialectState) checked(f listForm, ok, decided bool, why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.form != f || d.check != checkRunning {
		return
	}
	switch {
	case decided && ok:
		d.check = checkDone
	case decided:
		d.form, d.check, d.hidden = f.cwdTwin(), checkNone, false
		d.note = why
		if len(d.refused) < maxRefusalsKept {
			d.refused = append(d.refused, f.String()+": "+why)
		}
	default:
		d.check = checkNone
	}
}

// report is the host's dialect for the JSON.
func (d *dialectState) report() ftpaudit.DialectReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := ftpaudit.DialectReport{ListForm: d.form.String(), Refused: slices.Clone(d.refused),
		MLSTFacts: d.mlstAsked, MLSTReply: d.mlstReply, DataErrors: d.dataErrors.Load(), Note: d.note}
	if !d.settled {
		r.ListForm = ""
	}
	switch {
	case !d.settled:
	case d.form.dashA() || d.hidden:
		r.HiddenNames = "listed"
	default:
		r.HiddenNames = "unknown"
		r.Limit = "the server refused LIST -a, and no listing without -a showed a hidden name: names starting with a dot may be missing"
	}
	return r
}

// hasHidden reports whether es holds a hidden name (a dot name other than
// "." and "..").
func hasHidden(es []ftpaudit.Entry) bool {
	for i := range es {
		n := es[i].Name
		if strings.HasPrefix(n, ".") && n != "." && n != ".." {
			return true
		}
	}
	return false
}

// formRefused reports whether err is the server's refusal of a listing (a
// negative reply or an error message in the data), after which another
// form may be tried. A lost connection, a cancelled walk or a CWD that
// went elsewhere are not.
func formRefused(err error) bool {
	if err == nil || errors.Is(err, ftpaudit.ErrConnLost) {
		return false
	}
	var re *ftpaudit.ReplyError
	var de *ftpaudit.DataError
	return errors.As(err, &re) && re.Code >= 500 || errors.As(err, &de)
}

func refusalText(err error) string {
	var re *ftpaudit.ReplyError
	if errors.As(err, &re) {
		return re.Error()
	}
	var de *ftpaudit.DataError
	if errors.As(err, &de) {
		return de.Error()
	}
	return err.Error()
}

// wantedFacts are the MLST facts the walk and the rules read, in the order
// they are asked for.
var wantedFacts = []string{"type", "size", "modify", "perm", "unique",
	"unix.mode", "unix.owner", "unix.ownername", "unix.uid", "unix.group", "unix.groupname", "unix.gid"}

// mlstOptions returns the OPTS MLST argument that turns on every wanted
// fact the server's FEAT offers, or "" when all of them are on already
// (RFC 3659 7.8: FEAT marks the facts in use with "*").
func mlstOptions(features []string) string {
	var offered string
	for _, f := range features {
		if len(f) > 5 && strings.EqualFold(f[:5], "MLST ") {
			offered = f[5:]
			break
		}
	}
	if offered == "" {
		return ""
	}
	on := map[string]bool{}
	have := map[string]bool{}
	for _, f := range strings.Split(offered, ";") {
		f = strings.TrimSpace(f)
		name := strings.ToLower(strings.TrimSuffix(f, "*"))
		if name == "" {
			continue
		}
		have[name] = true
		on[name] = strings.HasSuffix(f, "*")
	}
	var ask strings.Builder
	missing := false
	for _, w := range wantedFacts {
		if have[w] {
			ask.WriteString(w + ";")
			missing = missing || !on[w]
		}
	}
	if !missing {
		return ""
	}
	return ask.String()
}

// askFacts sends OPTS MLST for the facts mlstOptions names, on a fresh
// MLSD session, and notes the answer in the host's dialect (the first
// session's). A refusal only means fewer facts.
func (s *ftpSession) askFacts(features []string) error {
	facts := mlstOptions(features)
	if facts == "" {
		return nil
	}
	var reply string
	if s.t.TLS == ftpaudit.TLSExplicit {
		// jlaffaye wraps the control connection in TLS itself: there is
		// no raw connection to send the command on.
		reply = "not sent: explicit TLS session"
	} else {
		var err error
		if _, reply, err = s.rawCommand("OPTS MLST " + facts); err != nil {
			return err
		}
	}
	s.dialect.mu.Lock()
	if s.dialect.mlstAsked == "" {
		s.dialect.mlstAsked, s.dialect.mlstReply = facts, reply
	}
	s.dialect.mu.Unlock()
	return nil
}

// rawCommand sends one command that jlaffaye has no method for and reads
// its reply from the raw control connection (jlaffaye's reader holds no
// buffered bytes between commands; see statExchange). It returns the
// reply code and its last line.
func (s *ftpSession) rawCommand(cmd string) (int, string, error) {
	if s.ctl == nil {
		s.ctl = bufio.NewReaderSize(s.control, 16<<10)
	}
	if dc, ok := s.control.(*deadlineConn); ok {
		// Read here, the reply is not seen by the reply bounds: the
		// rate of a data transfer bounds it instead.
		dc.rate = &rateMeter{min: s.opt.MinDataRate, window: s.opt.RateWindow}
		defer func() { dc.rate = nil }()
	}
	if _, err := s.control.Write([]byte(cmd + "\r\n")); err != nil {
		return 0, "", err
	}
	var n int64
	limit := int64(s.opt.MaxReplyBytes)
	line, err := s.ctlLine(&n, limit)
	if err != nil {
		return 0, "", err
	}
	if !isCode(string(line)) {
		return 0, "", fmt.Errorf("%w: reply to %s does not start with a code: %q", ftpaudit.ErrConnLost, strings.Fields(cmd)[0], trunc(line))
	}
	code := string(line[:3])
	for len(line) > 3 && line[3] == '-' {
		if line, err = s.ctlLine(&n, limit); err != nil {
			return 0, "", err
		}
		if len(line) >= 4 && string(line[:3]) == code && line[3] == ' ' {
			break
		}
	}
	c, _ := strconv.Atoi(code)
	return c, string(line), nil
}
