package scanner

// "Complete" is a proof: every directory the server showed was listed,
// shown by the server to be unlistable, or provably the same as one
// listed; anything else is named in NotListed and costs completeness.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// wantNotListed checks that r names each of want (by path and kind; and
// every word of Reason, if set) in NotListed.
func wantNotListed(t *testing.T, r *ftpaudit.HostResult, want ...ftpaudit.Unlisted) {
	t.Helper()
	for _, w := range want {
		ok := slices.ContainsFunc(r.NotListed, func(u ftpaudit.Unlisted) bool {
			if u.Path != w.Path || u.Kind != w.Kind {
				return false
			}
			for _, word := range strings.Fields(w.Reason) {
				if !strings.Contains(u.Reason, word) {
					return false
				}
			}
			return true
		})
		if !ok {
			t.Errorf("not_listed lacks %s (%s, %q): %+v", w.Path, w.Kind, w.Reason, r.NotListed)
		}
	}
}

// noNotListed checks that none of paths is in NotListed.
func noNotListed(t *testing.T, r *ftpaudit.HostResult, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if i := slices.IndexFunc(r.NotListed, func(u ftpaudit.Unlisted) bool { return u.Path == p }); i >= 0 {
			t.Errorf("not_listed names %s: %+v", p, r.NotListed[i])
		}
	}
}

// dirAt is a directory entry with the attributes of a directory made at
// one minute by one user: `mkdir -p u/u` makes two of them alike.
func dirAt(name, mode, owner string) ftpaudit.Entry {
	return ftpaudit.Entry{Name: name, Type: ftpaudit.TypeDir, Mode: mode, Owner: owner, Group: owner, Size: 4096,
		Modified: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)}
}

// Item 1: a listing whose only entry is the directory's own name and
// attributes is what vsftpd answers for a directory it cannot read, and
// also what a real `mkdir -p u/u` lists. Only listing below tells.
func TestWalkListsOnlyItself(t *testing.T) {
	const failed = "226 Transfer done (but failed to open directory)."
	bin := dirAt("bin", "d--x--x--x", "root")
	u := dirAt("u", "drwxr-xr-x", "ftp")
	a := dirAt("a", "drwxr-xr-x", "ftp")
	sec := dirAt("sec", "d--x--x--x", "root")
	e := dirAt("e", "drwxr-xr-x", "ftp")
	m := &memTree{
		dirs: map[string][]ftpaudit.Entry{
			"/": {bin, d("up"), sec, e, d("deny"), a},
			// vsftpd, d--x--x--x: the directory itself, then a failure.
			"/bin": {bin},
			// Two anonymous MKDs and an upload: real.
			"/up":                   {u, d("x")},
			"/up/u":                 {u},
			"/up/u/u":               {f("keygen.exe")},
			"/up/x":                 {u},
			"/up/x/u":               {u},
			"/up/x/u/u":             {u},
			"/up/x/u/u/u":           {f("deep.nfo")},
			"/sec":                  {sec},
			"/sec/sec":              {f("hidden")},
			"/e":                    {e},
			"/e/e":                  {},
			"/deny":                 {dirAt("deny", "drwxr-xr-x", "ftp")},
			"/a":                    {a},
			"/a/a":                  {a},
			"/never/reached/at/all": {},
		},
		replies: map[string]string{"/bin/bin": failed, "/a/a/a": failed},
		errs:    map[string]error{"/deny/deny": &ftpaudit.ReplyError{Code: 550, Msg: "No such file or directory"}},
	}
	// /deny lists its own name with /'s attributes for it: "deny" below
	// has other attributes than /deny (d("deny")), so it is a real entry.
	for _, conns := range []int{1, 4} {
		r := walkMem(t, m, WalkOptions{Connections: conns})
		got := paths(r)
		for _, p := range []string{"/up/u/u", "/up/u/u/keygen.exe", "/up/x/u/u/u/deep.nfo", "/sec/sec/hidden", "/deny/deny"} {
			if !slices.Contains(got, p) {
				t.Errorf("connections=%d: inventory lacks %s: %q", conns, p, got)
			}
		}
		for _, p := range []string{"/bin/bin", "/a/a", "/a/a/a", "/e/e"} {
			if slices.Contains(got, p) {
				t.Errorf("connections=%d: inventory has the phantom %s", conns, p)
			}
		}
		wantNotListed(t, r,
			ftpaudit.Unlisted{Path: "/bin", Kind: ftpaudit.UnlistedUnreadable, Reason: "lists only itself, and listing /bin/bin failed: " + failed},
			ftpaudit.Unlisted{Path: "/deny/deny", Kind: ftpaudit.UnlistedUnreadable, Reason: "550"},
			// Its attributes deny reading, yet /sec/sec lists: cannot tell.
			ftpaudit.Unlisted{Path: "/sec", Kind: ftpaudit.UnlistedUndecided, Reason: "do not let anonymous users read it"},
			// An empty listing below may be a path the server does not have.
			ftpaudit.Unlisted{Path: "/e", Kind: ftpaudit.UnlistedUndecided, Reason: "lists nothing"},
			// u/u/u whose last is unreadable: that one is, above it undecided.
			ftpaudit.Unlisted{Path: "/a/a", Kind: ftpaudit.UnlistedUnreadable, Reason: "failed to open"},
			ftpaudit.Unlisted{Path: "/a", Kind: ftpaudit.UnlistedUndecided},
		)
		noNotListed(t, r, "/up/u", "/up/u/u", "/up/x/u/u", "/deny")
		if r.Complete || !slices.Contains(r.Incomplete, causeUndecided) {
			t.Errorf("connections=%d: complete=%v incomplete=%q: undecided directories must make the host incomplete", conns, r.Complete, r.Incomplete)
		}
		var unreadable []string
		for _, p := range r.Unreadable {
			unreadable = append(unreadable, p.Path)
		}
		if !slices.Equal(unreadable, []string{"/a/a", "/bin", "/deny/deny"}) {
			t.Errorf("connections=%d: unreadable %q", conns, unreadable)
		}
	}

	// vsftpd's unreadable directory alone: unreadable, and complete,
	// also when listing below it first meets a transient refusal.
	m = &memTree{dirs: map[string][]ftpaudit.Entry{"/": {bin, d("pub")}, "/bin": {bin}, "/pub": {}}, replies: map[string]string{"/bin/bin": failed},
		busyFirst: map[string]int{"/bin/bin": 1}}
	r := walkMem(t, m, WalkOptions{})
	if !r.Complete || slices.Contains(paths(r), "/bin/bin") || r.Stats.Listed != 2 || r.Stats.Unreadable != 1 || r.Stats.Dirs != 2 || m.listings["/bin/bin"] != 2 {
		t.Errorf("complete=%v %q %+v %+v", r.Complete, paths(r), r.Stats, r.NotListed)
	}
}

// Item 2 with the server's identity: a directory with the MLSD unique
// fact of one listed, listing the same, is that directory (not
// descended, and complete); one whose listing differs shows the facts are
// not the server's identity, and nothing is skipped on them.
func TestWalkUniqueSameDirectory(t *testing.T) {
	uq := func(e ftpaudit.Entry, u string) ftpaudit.Entry { e.Extra = &ftpaudit.EntryExtra{Unique: u}; return e }
	pub := uq(d("pub"), "u1")
	// A loop the server shows as a plain directory, with its identity.
	m := &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":             {pub, f("README")},
		"/pub":          {uq(d("loop"), "u1"), f("x")},
		"/pub/loop":     {uq(d("loop"), "u1"), f("x")},
		"/pub/loop/loo": {},
	}}
	r := walkMem(t, m, WalkOptions{})
	if !r.Complete || !slices.Equal(paths(r), []string{"/README", "/pub", "/pub/loop", "/pub/x"}) {
		t.Errorf("loop: complete=%v %q %q", r.Complete, paths(r), r.Incomplete)
	}
	wantNotListed(t, r, ftpaudit.Unlisted{Path: "/pub/loop", Kind: ftpaudit.UnlistedSame, Reason: "same directory as /pub unique=u1"})

	// unique=1 for everything: listings differ, so all is walked.
	m = &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":      {uq(d("a"), "1")},
		"/a":     {uq(d("b"), "1"), f("a-file")},
		"/a/b":   {uq(d("c"), "1"), f("b-file")},
		"/a/b/c": {f("hidden.nfo")},
	}}
	r = walkMem(t, m, WalkOptions{})
	if !r.Complete || !slices.Contains(paths(r), "/a/b/c/hidden.nfo") {
		t.Errorf("unique=1: complete=%v %q", r.Complete, paths(r))
	}
	if !slices.ContainsFunc(r.Notes, func(n ftpaudit.PathError) bool { return strings.Contains(n.Error, "not trusted") }) {
		t.Errorf("no note that unique facts are untrusted: %+v", r.Notes)
	}

	// Item 3: distinct siblings sharing one value make the facts
	// untrusted before anything is skipped on them, even when their
	// first levels list alike.
	m = &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":      {uq(d("x"), "7"), uq(d("y"), "7")},
		"/x":     {d("sub")},
		"/y":     {d("sub")},
		"/x/sub": {f("x-only")},
		"/y/sub": {f("y-only")},
	}}
	for _, conns := range []int{1, 3} {
		r = walkMem(t, m, WalkOptions{Connections: conns})
		if !r.Complete || !slices.Contains(paths(r), "/x/sub/x-only") || !slices.Contains(paths(r), "/y/sub/y-only") {
			t.Errorf("siblings: complete=%v %q", r.Complete, paths(r))
		}
		noNotListed(t, r, "/x", "/y")
	}

	// A directory skipped as the same, then a third with the value
	// listing differently: the skipped one is walked after all.
	m = &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":    {d("r"), d("q"), d("p")}, // LIFO: /p, /q, then /r
		"/p":   {uq(d("s"), "9")},
		"/p/s": {f("same")},
		"/q":   {uq(d("s"), "9")},
		"/q/s": {f("same")},
		"/r":   {uq(d("s"), "9")},
		"/r/s": {f("different")},
	}}
	for _, conns := range []int{1, 2} {
		r = walkMem(t, m, WalkOptions{Connections: conns})
		for _, p := range []string{"/p/s/same", "/q/s/same", "/r/s/different"} {
			if !slices.Contains(paths(r), p) {
				t.Errorf("connections=%d: %s not walked: %q %+v", conns, p, paths(r), r.NotListed)
			}
		}
		if !r.Complete {
			t.Errorf("connections=%d: incomplete %q", conns, r.Incomplete)
		}
	}
}

// Item 4: a name listed twice with different readings is resolved by the
// stronger one, whatever the order, and reported with both.
func TestWalkDuplicateNameStrongerReading(t *testing.T) {
	file := ftpaudit.Entry{Name: "incoming", Type: ftpaudit.TypeFile, Mode: "-rw-r--r--", Size: 10, Raw: "-rw-r--r-- 1 0 0 10 Mar 04 2021 incoming"}
	dir := ftpaudit.Entry{Name: "incoming", Type: ftpaudit.TypeDir, Mode: "drwxrwxrwx", Size: 4096, Raw: "drwxrwxrwx 2 0 0 4096 Mar 04 2021 incoming"}
	for _, order := range [][]ftpaudit.Entry{{file, dir}, {dir, file}} {
		m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": order, "/incoming": {f("warez.rar")}}}
		r := walkMem(t, m, WalkOptions{})
		if !slices.Equal(paths(r), []string{"/incoming", "/incoming/warez.rar"}) {
			t.Errorf("order %s first: %q", order[0].Type, paths(r))
		}
		for _, e := range r.EntryList() {
			if e.Path == "/incoming" && (e.Type != ftpaudit.TypeDir || e.Mode != "drwxrwxrwx") {
				t.Errorf("order %s first: /incoming kept as %s %s", order[0].Type, e.Type, e.Mode)
			}
		}
		if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Error, file.Raw) || !strings.Contains(r.Errors[0].Error, dir.Raw) {
			t.Errorf("order %s first: the anomaly must name both readings: %+v", order[0].Type, r.Errors)
		}
	}
	// Two directory readings: judged with every permission either grants.
	a := ftpaudit.Entry{Name: "up", Type: ftpaudit.TypeDir, Mode: "drwxr-x--x", Owner: "root", Extra: &ftpaudit.EntryExtra{Perm: "el"}}
	b := ftpaudit.Entry{Name: "up", Type: ftpaudit.TypeDir, Mode: "drwx-wx--t", Owner: "root", Extra: &ftpaudit.EntryExtra{Perm: "cm"}}
	for _, order := range [][]ftpaudit.Entry{{a, b}, {b, a}} {
		m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": order, "/up": {}}}
		r := walkMem(t, m, WalkOptions{})
		if r.NumEntries() != 1 || r.EntryList()[0].Mode != "drwxrwx--t" || !sameLetters(r.EntryList()[0].Perm(), "elcm") {
			t.Errorf("merged %+v %+v", r.EntryList(), r.EntryList()[0].Extra)
		}
	}
	if a.Extra.Perm != "el" || b.Extra.Perm != "cm" {
		t.Error("the readings' own facts were changed")
	}
}

func sameLetters(a, b string) bool {
	x, y := []byte(a), []byte(b)
	slices.Sort(x)
	slices.Sort(y)
	return string(x) == string(y)
}

// Item 8: no listing of the start directory, no complete.
func TestWalkStartDirectory(t *testing.T) {
	const failed = "226 Transfer done (but failed to open directory)."
	tree := func() *memTree {
		return &memTree{dirs: map[string][]ftpaudit.Entry{
			"/":                 {d("pub"), f("README"), dirAt("bin", "d--x--x--x", "root"), d("drop")},
			"/pub":              {f("a"), d("empty")},
			"/pub/empty":        {},
			"/pub/typo":         {}, // vsftpd, pure-ftpd: a missing path lists empty
			"/README":           {f("README")},
			"/bin":              {dirAt("bin", "d--x--x--x", "root")},
			"/drop/sub":         {},
			"/pub/empty/README": {f("README")},
		}, replies: map[string]string{"/bin/bin": failed, "/drop": "226 Transfer complete"}}
	}
	cases := []struct {
		start    string
		setup    func(m *memTree)
		complete bool
		kind     ftpaudit.UnlistedKind
		reason   string
	}{
		{start: "/", complete: true},
		{start: "/pub", complete: true},
		{start: "/pub/empty", complete: true},
		{start: "/pub/typo", kind: ftpaudit.UnlistedError, reason: "does not exist"},
		{start: "/README", kind: ftpaudit.UnlistedError, reason: "not a directory"},
		{start: "/bin", kind: ftpaudit.UnlistedUnreadable, reason: "lists only itself failed"},
		// The parent lists nothing: an empty start cannot be told from a
		// missing one.
		{start: "/drop/sub", kind: ftpaudit.UnlistedUndecided, reason: "cannot be told"},
		{start: "/", setup: func(m *memTree) {
			m.errs = map[string]error{"/": &ftpaudit.ReplyError{Code: 550, Msg: "Permission denied"}}
		},
			kind: ftpaudit.UnlistedUnreadable, reason: "550"},
		{start: "/", setup: func(m *memTree) { m.replies["/"] = failed }, kind: ftpaudit.UnlistedUnreadable, reason: "failed"},
		{start: "/pub/missing", setup: func(m *memTree) {
			m.errs = map[string]error{"/pub/missing": &ftpaudit.ReplyError{Code: 450, Msg: "No such file or directory"}}
		}, kind: ftpaudit.UnlistedError, reason: "450"},
	}
	for _, c := range cases {
		m := tree()
		if c.setup != nil {
			c.setup(m)
		}
		r := walkStart(t, m, c.start)
		if r.Complete != c.complete {
			t.Errorf("start %s: complete=%v incomplete=%q", c.start, r.Complete, r.Incomplete)
		}
		if c.complete {
			noNotListed(t, r, c.start)
			continue
		}
		wantNotListed(t, r, ftpaudit.Unlisted{Path: c.start, Kind: c.kind, Reason: c.reason})
		if !slices.ContainsFunc(r.Incomplete, func(s string) bool { return strings.HasPrefix(s, "start directory "+c.start+" not listed") }) {
			t.Errorf("start %s: incomplete %q", c.start, r.Incomplete)
		}
	}
}

func walkStart(t *testing.T, m *memTree, start string) *ftpaudit.HostResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Walk(ctx, ftpaudit.Target{URL: "ftp://mem", Start: start}, m.connector(), WalkOptions{Backoff: time.Millisecond, Retries: 2})
}

// Accepting: a skip the policy accepts does not cost completeness, and
// stays named.
func TestAcceptUnlisted(t *testing.T) {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d("a"), d("b")}, "/a": {d("x")}, "/a/x": {d("y")}, "/b": {d("z")}, "/b/z": {d("w")}}}
	r := walkMem(t, m, WalkOptions{MaxDepth: 2})
	if r.Complete {
		t.Fatal("depth bound: complete")
	}
	accept := func(g string) func(string) (string, string, bool) {
		return func(p string) (string, string, bool) { return g, "known deep tree", strings.HasPrefix(p, g) }
	}
	if n := r.Accept(accept("/a/")); n != 1 || r.Complete {
		t.Fatalf("accepted %d, complete=%v %q", n, r.Complete, r.Incomplete)
	}
	if n := r.Accept(accept("/b/")); n != 1 || !r.Complete || len(r.Errors) != 0 || r.Stats.Errors != 0 {
		t.Fatalf("accepted %d, complete=%v %q %+v", n, r.Complete, r.Incomplete, r.Errors)
	}
	wantNotListed(t, r, ftpaudit.Unlisted{Path: "/a/x/y", Kind: ftpaudit.UnlistedAccepted, Reason: "--max-depth 2"})
	for _, u := range r.NotListed {
		if u.Accepted == nil || u.Accepted.Kind != ftpaudit.UnlistedBound || u.Accepted.Reason != "known deep tree" {
			t.Errorf("%+v %+v", u, u.Accepted)
		}
	}
	// What the walk as a whole did wrong is not the policy's to accept.
	m = &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d("a")}}, errs: map[string]error{"/a": fmt.Errorf("list: %w", ftpaudit.ErrConnLost)}}
	r = walkMem(t, m, WalkOptions{Retries: 1})
	r.Incomplete = append(r.Incomplete, "listings cut short")
	r.Accept(accept("/"))
	if r.Complete || !slices.Equal(r.Incomplete, []string{"listings cut short"}) {
		t.Errorf("complete=%v %q", r.Complete, r.Incomplete)
	}
}

// A listing of a directory whose path leaves no room for a long name
// under the server's path limit is no proof: vsftpd and proftpd leave an
// entry whose joined path is too long out of the listing without a
// word, so an uploader who may create directories can nest them deep
// enough to hide what is at the bottom. Such a listing makes the host
// incomplete, and names the directory.
func TestWalkLongPaths(t *testing.T) {
	const pathMax = 600 // so paths of 88 bytes and more count
	limit := pathMax - LongPathMargin
	atLimit := strings.Repeat("a", limit-1) // "/" + it: limit bytes
	below := strings.Repeat("b", limit-2)   // limit-1 bytes
	deep := strings.Repeat("c", 200)        // nested: 201, 402, 603 bytes
	refused := strings.Repeat("r", limit)   // refused, as Twisted does for its length
	self := strings.Repeat("s", limit)      // lists only itself; its own subdirectory is refused
	m := &memTree{dirs: map[string][]ftpaudit.Entry{
		"/":                                  {d(atLimit), d(below), d(deep), d(refused), dirAt(self, "drwxr-xr-x", "root")},
		"/" + self:                           {dirAt(self, "drwxr-xr-x", "root")},
		"/" + atLimit:                        {f("x")},
		"/" + below:                          {f("y")},
		"/" + deep:                           {d(deep)},
		"/" + deep + "/" + deep:              {d(deep)},
		"/" + deep + "/" + deep + "/" + deep: {f("z")},
	}, errs: map[string]error{
		"/" + refused:           &ftpaudit.ReplyError{Code: 550, Msg: "Requested action not taken: internal server error"},
		"/" + self + "/" + self: &ftpaudit.ReplyError{Code: 550, Msg: "Requested action not taken: internal server error"},
	}}
	walkWith := func(pm int) *ftpaudit.HostResult {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return Walk(ctx, ftpaudit.Target{URL: "ftp://mem", Start: "/"}, m.connector(), WalkOptions{Backoff: time.Millisecond, Retries: 2, PathMax: pm})
	}
	r := walkWith(pathMax)
	if r.Complete || !slices.Contains(r.Incomplete, reasonLongPath) {
		t.Fatalf("complete=%v incomplete=%q", r.Complete, r.Incomplete)
	}
	var named []string
	for _, e := range r.Errors {
		if strings.Contains(e.Error, "may be missing entries") {
			named = append(named, e.Path)
		}
	}
	want := []string{"/" + atLimit, "/" + deep, "/" + deep + "/" + deep, "/" + deep + "/" + deep + "/" + deep, "/" + refused, "/" + self, "/" + self + "/" + self} // not below
	slices.Sort(named)
	slices.Sort(want)
	if !slices.Equal(named, want) {
		t.Errorf("named %q, want %q", named, want)
	}
	if n := r.Stats.Files; n != 3 {
		t.Errorf("%d files, want 3: the listings are kept", n)
	}
	// Linux's limit leaves room for all of them (the refusal is then
	// taken for what it says).
	if r := walkWith(4096); !r.Complete {
		t.Errorf("--path-max 4096: incomplete %q, errors %v", r.Incomplete, r.Errors)
	}
}

// Every such directory is named in Errors, however many an uploader
// makes: verify, the baseline and the manifest comparison read Errors
// as the directories not seen in full, and each checks the directories
// above an entry only up to the nearest one seen, so a directory left
// unnamed would let them call an earlier finding in it gone.
func TestWalkLongPathsAllNamed(t *testing.T) {
	long := strings.Repeat("l", 600)
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d(long), d("short")}, "/short": {f("s")}}}
	var sub []ftpaudit.Entry
	want := []string{"/" + long}
	for i := range 150 {
		name := fmt.Sprintf("s%03d", i)
		sub = append(sub, d(name))
		m.dirs["/"+long+"/"+name] = []ftpaudit.Entry{f("x")}
		want = append(want, "/"+long+"/"+name)
	}
	m.dirs["/"+long] = sub
	r := walkStart(t, m, "/")
	var named []string
	for _, e := range r.Errors {
		if strings.Contains(e.Error, "may be missing entries") {
			named = append(named, e.Path)
		}
	}
	slices.Sort(named)
	if !slices.Equal(named, want) {
		t.Errorf("named %d directories, want the %d long ones: %q", len(named), len(want), named)
	}
	if r.Complete {
		t.Error("complete")
	}
}

// A syntax error refuses the command, not the directory: pyftpdlib
// answers a LIST of a path over 2,048 bytes with "500 Command too long.".
// It is an error that costs completeness, never a finding that the
// directory is unreadable; so is a 530 (the session's login lost); a 550
// is a refusal.
func TestWalkSyntaxErrorNotUnreadable(t *testing.T) {
	// /self lists only itself, as vsftpd lists an unreadable directory:
	// only a refusal of /self/self would settle that it is one.
	m := &memTree{dirs: map[string][]ftpaudit.Entry{"/": {d("long"), d("denied"), dirAt("self", "drwxr-xr-x", "root"), d("relogin")},
		"/long": {f("x")}, "/denied": {f("y")}, "/relogin": {f("z")}, "/self": {dirAt("self", "drwxr-xr-x", "root")}},
		errs: map[string]error{
			"/long":      &ftpaudit.ReplyError{Code: 500, Msg: "Command too long."},
			"/denied":    &ftpaudit.ReplyError{Code: 550, Msg: "Permission denied."},
			"/self/self": &ftpaudit.ReplyError{Code: 500, Msg: "Command too long."},
			"/relogin":   &ftpaudit.ReplyError{Code: 530, Msg: "Please login with USER and PASS."},
		}}
	r := walkStart(t, m, "/")
	wantNotListed(t, r,
		ftpaudit.Unlisted{Path: "/long", Kind: ftpaudit.UnlistedError, Reason: "500"},
		ftpaudit.Unlisted{Path: "/denied", Kind: ftpaudit.UnlistedUnreadable, Reason: "550"},
		ftpaudit.Unlisted{Path: "/self", Kind: ftpaudit.UnlistedUndecided, Reason: "500"},
		ftpaudit.Unlisted{Path: "/relogin", Kind: ftpaudit.UnlistedError, Reason: "530"})
	if r.Complete || !slices.Contains(r.Incomplete, causeFailed) {
		t.Errorf("complete=%v incomplete=%q", r.Complete, r.Incomplete)
	}
	if slices.ContainsFunc(r.Unreadable, func(e ftpaudit.PathError) bool { return e.Path == "/long" }) {
		t.Errorf("/long reported unreadable: %v", r.Unreadable)
	}
}
