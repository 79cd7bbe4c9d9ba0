package scanner

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

// fakeProber is one directory of an in-memory server that can be told to
// misbehave the ways real servers do when a canary is removed.
type fakeProber struct {
	dir   string
	names map[string]bool // what is really in dir
	// listing: "ok" (the truth), "refused" (550), "error-line" (226 with
	// an error message as data, as a BSD ftpd does for an unreadable
	// directory), "empty" (226 and nothing, as proftpd and vsftpd do),
	// "empty-after-removal" (the truth, then nothing).
	listing string
	lists   int
	// size550 answers every SIZE and CWD check with 550 (pyftpdlib:
	// "not enough privileges" whether or not the file exists).
	size550 bool
	// deleteRefused answers DELE and RMD with 550; deleteLies answers
	// them 250 and removes nothing.
	deleteRefused, deleteLies bool
}

func (f *fakeProber) List(_ context.Context, dir string) (*ftpaudit.Listing, error) {
	f.lists++
	l := &ftpaudit.Listing{Reply: "226 Transfer complete", Via: ftpaudit.ViaList}
	switch {
	case f.listing == "refused":
		return nil, &ftpaudit.ReplyError{Code: 550, Msg: "Permission denied"}
	case f.listing == "error-line":
		l.Bad = []ftpaudit.BadLine{{Raw: "ls: .: Permission denied", Err: "not a listing line"}}
		return l, nil
	case f.listing == "empty", f.listing == "empty-after-removal" && f.lists > 1:
		return l, nil
	}
	for n := range f.names {
		l.Entries = append(l.Entries, ftpaudit.Entry{Path: dir + "/" + n, Name: n, Type: ftpaudit.TypeFile})
	}
	return l, nil
}

func (f *fakeProber) Close() error { return nil }
func (f *fakeProber) ChangeDir(_ context.Context, dir string) (string, error) {
	return "250 ok", nil
}
func (f *fakeProber) Store(_ context.Context, name string) (string, error) {
	f.names[name] = true
	return "226 Transfer complete", nil
}
func (f *fakeProber) MakeDir(_ context.Context, name string) (string, error) {
	f.names[name] = true
	return `257 "` + name + `" created`, nil
}
func (f *fakeProber) remove(name string) (string, error) {
	switch {
	case f.deleteRefused:
		err := &ftpaudit.ReplyError{Code: 550, Msg: "Not enough privileges."}
		return "dele " + name + ": " + err.Error(), err
	case f.deleteLies:
		return "250 File removed.", nil
	}
	delete(f.names, name)
	return "250 File removed.", nil
}
func (f *fakeProber) Delete(_ context.Context, name string) (string, error)    { return f.remove(name) }
func (f *fakeProber) RemoveDir(_ context.Context, name string) (string, error) { return f.remove(name) }
func (f *fakeProber) Exists(_ context.Context, _, name string, _ bool) (bool, error) {
	if f.size550 {
		return false, nil
	}
	return f.names[name], nil
}
func (f *fakeProber) Fetch(context.Context, string, int64) ([]byte, error) {
	return nil, errors.New("550 no")
}

// A canary is removed only when a check that saw it while it was there no
// longer sees it: never on a 550 to SIZE that the server gives whatever
// exists, an error line inside a 226 listing, or an empty listing of a
// directory that cannot be read.
func TestProbeCleanupMustBeProven(t *testing.T) {
	for _, tc := range []struct {
		name       string
		f          fakeProber
		unreadable bool // the walk could not list it
		removed    bool
		why        string // in RemoveReply when not removed
	}{
		{"listable, removed", fakeProber{listing: "ok"}, false, true, ""},
		{"listable, delete refused", fakeProber{listing: "ok", deleteRefused: true}, false, false, "the listing after the removal still shows it"},
		{"listable, delete lies", fakeProber{listing: "ok", deleteLies: true}, false, false, "the listing after the removal still shows it"},
		{"unreadable, SIZE works", fakeProber{listing: "refused"}, true, true, ""},
		{"unreadable, pyftpdlib: SIZE 550 for everything, DELE refused", fakeProber{listing: "refused", size550: true, deleteRefused: true}, true, false,
			"did not find it either while it was there, so it cannot tell it gone"},
		{"unreadable, pyftpdlib: SIZE 550 for everything, DELE says done", fakeProber{listing: "refused", size550: true, deleteLies: true}, true, false,
			"did not find it either while it was there"},
		{"BSD ftpd: error line inside a 226 listing", fakeProber{listing: "error-line", size550: true, deleteRefused: true}, false, false,
			`the listing before the removal is not trustworthy: 1 line(s) it could not parse, such as "ls: .: Permission denied"`},
		{"BSD ftpd, but SIZE sees it", fakeProber{listing: "error-line"}, false, true, ""},
		{"empty listing of an unreadable directory", fakeProber{listing: "empty", size550: true, deleteRefused: true}, false, false,
			"the listing before the removal did not show it"},
		{"listing empty after the removal", fakeProber{listing: "empty-after-removal", deleteRefused: true}, false, false,
			"it shows none of the 1 other names the listing before the removal showed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			f.dir = "/incoming"
			f.names = map[string]bool{"README": true}
			h := &ftpaudit.HostResult{Target: ftpaudit.Target{Start: "/"}}
			if tc.unreadable {
				h.Unreadable = []ftpaudit.PathError{{Path: "/incoming", Error: "550 Permission denied"}}
			}
			res := probeDir(context.Background(), &f, h, "/incoming", map[string]map[string]bool{"/incoming": {"README": true}})
			for _, st := range []ftpaudit.ProbeStep{res.File, res.Mkdir} {
				if !st.Accepted {
					t.Fatalf("not accepted: %+v", res)
				}
				if st.Removed != tc.removed {
					t.Errorf("%s: Removed = %v, want %v (remove reply %q)", st.Path, st.Removed, tc.removed, st.RemoveReply)
				}
				if !tc.removed && !strings.Contains(st.RemoveReply, "not proven gone: ") {
					t.Errorf("%s: remove reply %q does not say why it is not proven gone", st.Path, st.RemoveReply)
				}
				if tc.why != "" && !strings.Contains(st.RemoveReply, tc.why) {
					t.Errorf("%s: remove reply %q lacks %q", st.Path, st.RemoveReply, tc.why)
				}
			}
			if got := len(res.Residue()); tc.removed && got != 0 || !tc.removed && got != 2 {
				t.Errorf("residue %q", res.Residue())
			}
		})
	}
}

// A refusal keeps its reply code (the judge tells 4xx from 5xx by it).
func TestStepReply(t *testing.T) {
	err := &ftpaudit.ReplyError{Code: 452, Msg: "Insufficient storage space"}
	if got := stepReply("stor x: 452 Insufficient storage space", errors.Join(errors.New("stor x"), err)); got != "452 Insufficient storage space" {
		t.Errorf("refusal: %q", got)
	}
	if got := stepReply("226 ok", nil); got != "226 ok" {
		t.Errorf("accepted: %q", got)
	}
}
