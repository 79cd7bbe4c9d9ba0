package listing

import (
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
)

func TestIsErrorText(t *testing.T) {
	errs := []string{
		"bin: Permission denied",
		"/bin: Permission denied",
		".: Permission denied",
		"ls: cannot open directory .: Permission denied",
		"ls: cannot open directory '.': Permission denied",
		"ls: /bin: Permission denied",
		"ls: cannot access 'x': No such file or directory",
		"ls: cannot access x: No such file or directory",
		"ls: reading directory '/pub': Input/output error",
		"/bin/ls: /etc: Permission denied",
		"/usr/bin/ls: cannot open directory '.': Keine Berechtigung",
		"ls: impossible d'ouvrir le répertoire '.': Permission non accordée",
		"bin: Keine Berechtigung",
		"bin: Permission non accordée",
		"bin: Permiso denegado",
		"bin: Permesso negato",
		"bin: Отказано в доступе",
		"bin: 許可がありません",
		"bin: 权限不够",
		"bin: 허가 거부",
		"my dir: Permission denied",
		"x: No such file or directory",
		"/pub/file: Not a directory",
		"2024: Permission denied",
		"2024-01-02: Permission denied",
		"loop: Too many levels of symbolic links",
		"bin: permission denied",
	}
	for _, l := range errs {
		if !IsErrorText(l) {
			t.Errorf("%q: not error text", l)
		}
	}
	notErrs := []string{
		"",
		"total 0",
		"Permission denied",
		": Permission denied",
		" bin: Permission denied",
		"a  b: Permission denied",    // a run of spaces: columns of some listing
		"a\tb: Permission denied",    // a tab: EPLF and other column formats
		"bin: Permission denied.",    // not the C library's text
		"bin: Permission denied ",    //
		"bin: access denied",         //
		"lsx: cannot open directory", // not ls
		"x ls: y",                    //
		"ls:",                        //
		"ls: ",                       //
		"ls:    ",                    //
		// Lines that parse are never errors, whatever their name.
		"-rw-r--r-- 1 ftp ftp 5 Nov 22 03:26 bin: Permission denied",
		"-rw-r--r-- 1 ftp ftp 5 Nov 22 03:26 ls: cannot open directory .: Permission denied",
		"11-22-26  03:26PM                    5 x: Permission denied",
		"drwxr-xr-x 2 0 0 4096 Nov 22 03:26 .",
		"this is not a listing",
		// Lines of known formats that did not parse, whatever their name.
		"drwxr-xr-x 2 0 0 4096 Feb 30 2024 bin: Permission denied",
		"drwxr-xr-x 2 0 0 x 4096 Nov 22 03:26 bin: Permission denied",
		"11-22-26 03:26PM 5x bin: Permission denied",
		"type=file;size=x; bin: Permission denied",
		"2024-01-02 x: Permission denied", // starts like an MS-DOS line: left unparsed
	}
	for _, l := range notErrs {
		if IsErrorText(l) {
			t.Errorf("%q: error text", l)
		}
	}
}

func TestErrorText(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		msg   string
		ok    bool
	}{
		{name: "inetutils unreadable dir", lines: []string{"bin: Permission denied"}, msg: "bin: Permission denied", ok: true},
		{name: "with total 0", lines: []string{"total 0", "ls: cannot open directory .: Permission denied", ""},
			msg: "ls: cannot open directory .: Permission denied", ok: true},
		{name: "two errors", lines: []string{"ls: a: Permission denied", "ls: b: Permission denied"},
			msg: "ls: a: Permission denied; ls: b: Permission denied", ok: true},
		{name: "total 0 alone is no error", lines: []string{"total 0"}},
		{name: "empty", lines: nil},
		{name: "an entry and an error", lines: []string{"-rw-r--r-- 1 ftp ftp 5 Nov 22 03:26 a", "ls: b: Permission denied"}},
		{name: "dot and an error", lines: []string{"drwxr-xr-x 2 0 0 4096 Nov 22 03:26 .", "ls: b: Permission denied"}},
		{name: "garbage and an error", lines: []string{"garbage", "ls: b: Permission denied"}},
	}
	for _, c := range cases {
		msg, ok := ErrorText(c.lines)
		if msg != c.msg || ok != c.ok {
			t.Errorf("%s: ErrorText = %q, %v; want %q, %v", c.name, msg, ok, c.msg, c.ok)
		}
	}
}

func TestSummary(t *testing.T) {
	type want struct {
		entries, bad          int
		errOnly, mixed, total bool
		dot, dotdot           bool
		totals, errLines      int
		text                  string
	}
	const (
		file = "-rw-r--r-- 1 ftp ftp 5 Nov 22 03:26 a\r\n"
		dot  = "drwxr-xr-x 2 0 0 4096 Nov 22 03:26 .\r\n"
		dd   = "drwxr-xr-x 2 0 0 4096 Nov 22 03:26 ..\r\n"
	)
	cases := []struct {
		name string
		text string
		mlsd bool
		want want
	}{
		{name: "error only", text: "bin: Permission denied\r\n",
			want: want{bad: 1, errOnly: true, errLines: 1, text: "bin: Permission denied"}},
		{name: "ls error and total 0", text: "total 0\nls: cannot open directory .: Permission denied\n",
			want: want{bad: 1, errOnly: true, totals: 1, errLines: 1, text: "ls: cannot open directory .: Permission denied"}},
		{name: "localized", text: "ls: Verzeichnis '.' kann nicht geöffnet werden: Keine Berechtigung\n",
			want: want{bad: 1, errOnly: true, errLines: 1, text: "ls: Verzeichnis '.' kann nicht geöffnet werden: Keine Berechtigung"}},
		{name: "entries and an error", text: "total 8\n" + dot + dd + file + "ls: cannot access 'x': No such file or directory\n",
			want: want{entries: 1, bad: 1, mixed: true, dot: true, dotdot: true, totals: 1, errLines: 1, text: "ls: cannot access 'x': No such file or directory"}},
		{name: "dot only and an error", text: dot + "ls: x: Permission denied\n",
			want: want{bad: 1, mixed: true, dot: true, errLines: 1, text: "ls: x: Permission denied"}},
		{name: "garbage and an error", text: "garbage\nls: x: Permission denied\n",
			want: want{bad: 2, mixed: true, errLines: 1, text: "ls: x: Permission denied"}},
		{name: "total 0 only", text: "total 0\r\n", want: want{total: true, totals: 1}},
		{name: "total 8 only", text: "total 8\r\n", want: want{total: true, totals: 1}},
		{name: "total and dot", text: "total 0\r\n" + dot + dd, want: want{dot: true, dotdot: true, totals: 1}},
		{name: "plain listing", text: file + file, want: want{entries: 2}},
		{name: "empty", text: "", want: want{}},
		{name: "blank lines", text: "\r\n\r\n", want: want{}},
		{name: "mlsd cdir and pdir", mlsd: true, text: "type=cdir; /pub\r\ntype=pdir; /\r\ntype=file; a\r\n",
			want: want{entries: 1, dot: true, dotdot: true}},
		{name: "mlsd error only", mlsd: true, text: "ls: x: Permission denied\r\n",
			want: want{bad: 1, errOnly: true, errLines: 1, text: "ls: x: Permission denied"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			entries, bad, cut, sum := ParseChunksSummary([]string{c.text}, c.mlsd, seeds.Now, 0)
			if cut {
				t.Fatal("cut")
			}
			got := want{
				entries: len(entries), bad: len(bad),
				errOnly: sum.ErrorOnly(), mixed: sum.ErrorMixed(), total: sum.TotalOnly(),
				dot: sum.Dot, dotdot: sum.DotDot, totals: sum.Totals, errLines: sum.ErrorLines, text: sum.ErrorText(),
			}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			// The summary changes nothing in what is parsed.
			e2, b2, _ := ParseChunksLimit([]string{c.text}, c.mlsd, seeds.Now, 0)
			if len(e2) != len(entries) || len(b2) != len(bad) {
				t.Errorf("ParseChunksLimit: %d entries, %d bad", len(e2), len(b2))
			}
		})
	}
}

func TestSummaryBounded(t *testing.T) {
	text := strings.Repeat("ls: x: Permission denied\n", 1000) + strings.Repeat("total 0\n", 3)
	_, bad, _, sum := ParseChunksSummary([]string{text}, false, seeds.Now, 0)
	if sum.ErrorLines != 1000 || len(sum.Errors) != MaxErrorsKept || !sum.ErrorOnly() || sum.Totals != 3 || sum.TotalNonZero {
		t.Fatalf("%d error lines, %d kept, only %v, totals %d", sum.ErrorLines, len(sum.Errors), sum.ErrorOnly(), sum.Totals)
	}
	if len(bad) != ftpaudit.MaxBadLinesKept {
		t.Fatalf("%d bad lines kept", len(bad))
	}
	if txt := sum.ErrorText(); !strings.HasSuffix(txt, "; ... (992 more)") {
		t.Fatalf("ErrorText %q", txt)
	}
	_, _, _, sum = ParseChunksSummary([]string{"total 12\ntotal 0\n"}, false, seeds.Now, 0)
	if !sum.TotalNonZero || !sum.TotalOnly() {
		t.Fatalf("%+v", sum)
	}
}
