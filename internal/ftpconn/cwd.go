package ftpconn

// Entering a directory with CWD, and proving it was entered.

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// placeError means a server answered CWD with success but did not (as
// far as its PWD shows) enter the directory asked for, or PWD could not
// tell where it went. Whatever is listed or written after such a CWD
// would be about another directory, so the directory is an error: it is
// neither listed nor unreadable. It is neither a refusal (*ReplyError) nor
// a lost connection.
type placeError struct {
	Dir string // the directory asked for
	PWD string // what PWD named; empty when PWD did not answer
	Why string // set when PWD did not answer
}

func (e *placeError) Error() string {
	if e.Why != "" {
		return fmt.Sprintf("CWD %q answered success, but where it went cannot be checked: %s", e.Dir, e.Why)
	}
	return fmt.Sprintf("CWD %q answered success, but PWD shows %q: the server did not enter the directory", e.Dir, e.PWD)
}

// enter changes to dir (absolute, exact) with CWD and checks with PWD that
// the server is there: a server that answers 250 and stays put (or lands
// elsewhere) would otherwise make the next listing or upload about
// another directory. Errors from CWD itself are returned unclassified;
// a check that fails is a *placeError.
func (s *ftpSession) enter(dir string) error {
	// A strict server may refuse anything but a transfer while a
	// restart offset is set.
	if err := s.clearRest(); err != nil {
		return err
	}
	doubled := false
	if err := s.conn.ChangeDir(pathArg(dir)); err != nil {
		var te *textproto.Error
		if !strings.Contains(dir, "\xff") || !errors.As(err, &te) || te.Code < 500 {
			return err
		}
		// Byte 0xFF is Telnet's IAC: GNU inetutils ftpd reads a lone
		// one as the start of a Telnet command (and loses the next
		// byte), and takes the name only with 0xFF doubled, as RFC 854
		// wants; most servers take it raw. The doubled form is tried
		// after a refusal of the raw one. On a server that takes 0xFF
		// raw, the doubled form names another directory (which an
		// uploader can make), so PWD must then show dir itself, byte
		// for byte, not a doubled form of it.
		if err2 := s.conn.ChangeDir(strings.ReplaceAll(pathArg(dir), "\xff", "\xff\xff")); err2 != nil {
			return err
		}
		doubled = true
	}
	pwd, err := s.conn.CurrentDir()
	if err != nil {
		var te *textproto.Error
		if errors.As(err, &te) {
			// A refusal of PWD is not a refusal of the directory.
			return &placeError{Dir: dir, Why: fmt.Sprintf("PWD answered %d %s", te.Code, te.Msg)}
		}
		if err.Error() == jlaffayePWDFormat {
			return &placeError{Dir: dir, Why: "PWD's reply names no directory: " + s.replies.last()}
		}
		return err
	}
	if pwd = strings.ReplaceAll(pwd, `""`, `"`); doubled && trimDirSuffix(pwd) != trimDirSuffix(dir) || !samePlace(pwd, dir) {
		return &placeError{Dir: dir, PWD: pwd}
	}
	return nil
}

// jlaffayePWDFormat is the text of jlaffaye's error for a 257 reply
// without quotes (made with errors.New, so only its text tells).
const jlaffayePWDFormat = "unsuported PWD response format"

// samePlace reports whether pwd, a directory as PWD names it (quotes
// undoubled), is dir: the same bytes once trailing "/." and "/" are
// trimmed from both (which servers drop), or once a server's doubled
// 0xFF bytes (Telnet IAC, which proftpd doubles in replies) are undoubled.
func samePlace(pwd, dir string) bool {
	pwd, dir = trimDirSuffix(pwd), trimDirSuffix(dir)
	return pwd == dir || strings.Contains(pwd, "\xff\xff") && strings.ReplaceAll(pwd, "\xff\xff", "\xff") == dir
}

func trimDirSuffix(p string) string {
	for {
		switch {
		case p == "/" || p == "":
			return "/"
		case strings.HasSuffix(p, "/."):
			p = p[:len(p)-2]
		case strings.HasSuffix(p, "/"):
			p = p[:len(p)-1]
		default:
			return p
		}
	}
}
