package listing

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
)

// seeds.Now is the scanner's clock in the table tests.

func utc(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, time.UTC)
}

// diffEntry describes how got differs from want, or returns "".
func diffEntry(got, want ftpaudit.Entry) string {
	var d []string
	chk := func(field string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s = %q, want %q", field, g, w))
		}
	}
	chk("Path", got.Path, want.Path)
	chk("Name", got.Name, want.Name)
	chk("Type", got.Type.String(), want.Type.String())
	if got.Size != want.Size {
		d = append(d, fmt.Sprintf("Size = %d, want %d", got.Size, want.Size))
	}
	if !got.Modified.Equal(want.Modified) {
		d = append(d, fmt.Sprintf("Modified = %v, want %v", got.Modified, want.Modified))
	}
	chk("Mode", got.Mode, want.Mode)
	chk("Owner", got.Owner, want.Owner)
	chk("Group", got.Group, want.Group)
	chk("Perm", got.Perm(), want.Perm())
	chk("Unique", got.Unique(), want.Unique())
	chk("Target", got.Target(), want.Target())
	chk("Raw", got.Raw, want.Raw)
	if (got.Facts() == nil) != (want.Facts() == nil) || !maps.Equal(got.Facts(), want.Facts()) {
		d = append(d, fmt.Sprintf("Facts = %q, want %q", got.Facts(), want.Facts()))
	}
	return strings.Join(d, "; ")
}

// unixEntry builds the expected Entry for a Unix line; the test fills Raw.
type listCase struct {
	name   string
	line   string
	now    time.Time      // seeds.Now when zero
	want   ftpaudit.Entry // Raw is filled in from line
	format ftpaudit.ListFormat
	skip   bool
	err    string
}

func TestParseListLineUnix(t *testing.T) {
	const dir = "drwxr-xr-x    2 0        0            4096 Nov 22 03:26 "
	const file = "-rw-r--r--    1 0        0               5 Nov 22 03:26 "
	d := func(name string) ftpaudit.Entry {
		return ftpaudit.Entry{Name: name, Type: ftpaudit.TypeDir, Size: 4096, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "drwxr-xr-x", Owner: "0", Group: "0"}
	}
	f := func(name string) ftpaudit.Entry {
		return ftpaudit.Entry{Name: name, Type: ftpaudit.TypeFile, Size: 5, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "-rw-r--r--", Owner: "0", Group: "0"}
	}
	link := func(name, target string, size int64) ftpaudit.Entry {
		return ftpaudit.Entry{Name: name, Type: ftpaudit.TypeLink, Size: size, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "lrwxrwxrwx", Owner: "0", Group: "0", Extra: &ftpaudit.EntryExtra{Target: target}}
	}
	cases := []listCase{
		{name: "vsftpd dir", line: dir + "pub", want: d("pub")},
		{name: "vsftpd file", line: file + "welcome.msg", want: f("welcome.msg")},
		{name: "leading spaces", line: dir + "  lead", want: d("  lead")},
		{name: "trailing spaces", line: dir + "trail  ", want: d("trail  ")},
		{name: "only spaces", line: dir + "  ", want: d("  ")},
		{name: "one space", line: dir + " ", want: d(" ")},
		{name: "three dots", line: dir + "...", want: d("...")},
		{name: "dot space", line: dir + ". ", want: d(". ")},
		{name: "space dotdot", line: dir + " ..", want: d(" ..")},
		{name: "dot skipped", line: dir + ".", want: d("."), skip: true},
		{name: "dotdot skipped", line: dir + "..", want: d(".."), skip: true},
		{name: "file named dot is kept", line: file + ".", want: f(".")},
		{name: "ansi escape", line: file + "\x1b[2J\x1b[1;1Hx", want: f("\x1b[2J\x1b[1;1Hx")},
		{name: "invalid utf8", line: file + "bad\xff\xfe\xc3(", want: f("bad\xff\xfe\xc3(")},
		{name: "tab cr nul", line: file + "a\tb\rc\x00d", want: f("a\tb\rc\x00d")},
		{name: "semicolon equals", line: file + "a;b=c; d", want: f("a;b=c; d")},
		{name: "arrow in file name", line: file + "a -> b", want: f("a -> b")},
		{name: "date in name", line: file + "Dec  1  2020 x", want: f("Dec  1  2020 x")},
		{name: "recent date in name", line: file + "Nov 22 03:26 x", want: f("Nov 22 03:26 x")},
		{name: "symlink", line: "lrwxrwxrwx    1 0        0              11 Nov 22 03:26 latest -> pub/current",
			want: link("latest", "pub/current", 11)},
		{name: "symlink without target", line: "lrwxrwxrwx    1 0        0              11 Nov 22 03:26 latest",
			want: link("latest", "", 11)},
		{name: "ambiguous symlink, target is last part", line: "lrwxrwxrwx 1 0 0 1 Nov 22 03:26 a -> b -> c",
			want: link("a -> b", "c", 1)},
		{name: "ambiguous symlink, target is first split", line: "lrwxrwxrwx 1 0 0 6 Nov 22 03:26 a -> b -> c",
			want: link("a", "b -> c", 6)},
		{name: "ambiguous symlink, no size match", line: "lrwxrwxrwx 1 0 0 99 Nov 22 03:26 a -> b -> c",
			want: link("a", "b -> c", 99)},
		{name: "symlink with spaces around arrow parts", line: "lrwxrwxrwx 1 0 0 3 Nov 22 03:26  a  ->  b ",
			want: link(" a ", " b ", 3)},
		{name: "symlink name starting with arrow", line: "lrwxrwxrwx 1 0 0 1 Nov 22 03:26  -> x",
			want: link(" -> x", "", 1)},
		{name: "symlink name starting with arrow, then a split", line: "lrwxrwxrwx 1 0 0 1 Nov 22 03:26  -> x -> y",
			want: link(" -> x", "y", 1)},
		{name: "symlink name ending in arrow", line: "lrwxrwxrwx 1 0 0 0 Nov 22 03:26 a -> ",
			want: link("a -> ", "", 0)},
		{name: "symlink name ending in arrow, then a split", line: "lrwxrwxrwx 1 0 0 0 Nov 22 03:26 a -> b -> ",
			want: link("a", "b -> ", 0)},
		{name: "symlink arrows only, no non-empty split", line: "lrwxrwxrwx 1 0 0 4 Nov 22 03:26  ->  -> ",
			want: link(" ->  -> ", "", 4)},
		{name: "symlink arrows only", line: "lrwxrwxrwx 1 0 0 4 Nov 22 03:26  ->  ->  -> ",
			want: link(" -> ", " -> ", 4)},
		{name: "old date form", line: "-rw-r--r--   1 root     root          802 Jul  4  2024 README",
			want: ftpaudit.Entry{Name: "README", Type: ftpaudit.TypeFile, Size: 802, Modified: utc(2024, 7, 4, 0, 0, 0), Mode: "-rw-r--r--", Owner: "root", Group: "root"}},
		{name: "year rollover to last year", now: utc(2026, 1, 5, 12, 0, 0),
			line: "-rw-r--r-- 1 ftp ftp 1 Dec 30 10:00 x",
			want: ftpaudit.Entry{Name: "x", Type: ftpaudit.TypeFile, Size: 1, Modified: utc(2025, 12, 30, 10, 0, 0), Mode: "-rw-r--r--", Owner: "ftp", Group: "ftp"}},
		{name: "slightly future date stays this year", now: utc(2026, 1, 5, 12, 0, 0),
			line: "-rw-r--r-- 1 ftp ftp 1 Jan  6 10:00 x",
			want: ftpaudit.Entry{Name: "x", Type: ftpaudit.TypeFile, Size: 1, Modified: utc(2026, 1, 6, 10, 0, 0), Mode: "-rw-r--r--", Owner: "ftp", Group: "ftp"}},
		{name: "future date beyond skew is last year", now: utc(2026, 1, 5, 12, 0, 0),
			line: "-rw-r--r-- 1 ftp ftp 1 Jan 20 10:00 x",
			want: ftpaudit.Entry{Name: "x", Type: ftpaudit.TypeFile, Size: 1, Modified: utc(2025, 1, 20, 10, 0, 0), Mode: "-rw-r--r--", Owner: "ftp", Group: "ftp"}},
		{name: "feb 29 recent in non-leap year goes to leap year", now: utc(2025, 1, 10, 0, 0, 0),
			line: "-rw-r--r-- 1 ftp ftp 1 Feb 29 10:00 x",
			want: ftpaudit.Entry{Name: "x", Type: ftpaudit.TypeFile, Size: 1, Modified: utc(2024, 2, 29, 10, 0, 0), Mode: "-rw-r--r--", Owner: "ftp", Group: "ftp"}},
		{name: "feb 29 recent in leap year", now: utc(2028, 3, 5, 0, 0, 0),
			line: "-rw-r--r-- 1 ftp ftp 1 Feb 29 10:00 x",
			want: ftpaudit.Entry{Name: "x", Type: ftpaudit.TypeFile, Size: 1, Modified: utc(2028, 2, 29, 10, 0, 0), Mode: "-rw-r--r--", Owner: "ftp", Group: "ftp"}},
		{name: "feb 29 recent in future goes to previous leap year", now: utc(2028, 1, 10, 0, 0, 0),
			line: "-rw-r--r-- 1 ftp ftp 1 Feb 29 10:00 x",
			want: ftpaudit.Entry{Name: "x", Type: ftpaudit.TypeFile, Size: 1, Modified: utc(2024, 2, 29, 10, 0, 0), Mode: "-rw-r--r--", Owner: "ftp", Group: "ftp"}},
		{name: "feb 30 recent is invalid", line: "-rw-r--r-- 1 ftp ftp 1 Feb 30 10:00 x", err: "invalid date"},
		{name: "no group column", line: "-rw-r--r--  1 ftp      802 Nov 22  2024 README",
			want: ftpaudit.Entry{Name: "README", Type: ftpaudit.TypeFile, Size: 802, Modified: utc(2024, 11, 22, 0, 0, 0), Mode: "-rw-r--r--", Owner: "ftp"}},
		{name: "no link count", line: "-rw-r--r-- ftp ftp 802 Nov 22  2024 README",
			want: ftpaudit.Entry{Name: "README", Type: ftpaudit.TypeFile, Size: 802, Modified: utc(2024, 11, 22, 0, 0, 0), Mode: "-rw-r--r--", Owner: "ftp", Group: "ftp"}},
		{name: "owner and group empty (goftp)", line: "drwxr-xr-x 1           4096 Nov 22 03:26 pub",
			want: ftpaudit.Entry{Name: "pub", Type: ftpaudit.TypeDir, Size: 4096, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "drwxr-xr-x"}},
		{name: "owner looks like a month", line: "-rw-r--r-- 1 Nov 22 2024 Nov 22 03:26 x",
			want: ftpaudit.Entry{Name: "x", Type: ftpaudit.TypeFile, Size: 2024, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "-rw-r--r--", Owner: "Nov", Group: "22"}},
		{name: "char device", line: "crw-rw-rw- 1 0 0 1,   3 Nov 22 03:26 null",
			want: ftpaudit.Entry{Name: "null", Type: ftpaudit.TypeOther, Size: -1, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "crw-rw-rw-", Owner: "0", Group: "0"}},
		{name: "block device compact", line: "brw-rw---- 1 root disk 8,0 Nov 22 03:26 sda",
			want: ftpaudit.Entry{Name: "sda", Type: ftpaudit.TypeOther, Size: -1, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "brw-rw----", Owner: "root", Group: "disk"}},
		{name: "device without group", line: "crw-rw-rw-  1 root  1,   3 Nov 22 03:26 null",
			want: ftpaudit.Entry{Name: "null", Type: ftpaudit.TypeOther, Size: -1, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "crw-rw-rw-", Owner: "root"}},
		{name: "bsd hex device", line: "crw-rw-rw-  1 root  wheel  0x2000002 Nov 22 03:26 null",
			want: ftpaudit.Entry{Name: "null", Type: ftpaudit.TypeOther, Size: -1, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "crw-rw-rw-", Owner: "root", Group: "wheel"}},
		{name: "socket", line: "srwxrwxrwx 1 root root 0 Nov 22 03:26 sock",
			want: ftpaudit.Entry{Name: "sock", Type: ftpaudit.TypeOther, Size: 0, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "srwxrwxrwx", Owner: "root", Group: "root"}},
		{name: "max int64 size", line: "-rw-r--r-- 1 ftp ftp 9223372036854775807 Nov 22 03:26 huge",
			want: ftpaudit.Entry{Name: "huge", Type: ftpaudit.TypeFile, Size: 1<<63 - 1, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "-rw-r--r--", Owner: "ftp", Group: "ftp"}},
		{name: "acl marker", line: "drwxr-xr-x+  5 root root 4096 Nov 22 03:26 acl",
			want: ftpaudit.Entry{Name: "acl", Type: ftpaudit.TypeDir, Size: 4096, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "drwxr-xr-x", Owner: "root", Group: "root"}},
		{name: "selinux marker", line: "-rw-r--r--. 1 root root 1 Nov 22 03:26 se",
			want: ftpaudit.Entry{Name: "se", Type: ftpaudit.TypeFile, Size: 1, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "-rw-r--r--", Owner: "root", Group: "root"}},
		{name: "sticky and setuid letters", line: "drwxrwxrwt 2 0 0 4096 Nov 22 03:26 tmp",
			want: ftpaudit.Entry{Name: "tmp", Type: ftpaudit.TypeDir, Size: 4096, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "drwxrwxrwt", Owner: "0", Group: "0"}},
		{name: "long-iso date", line: "-rw-r--r-- 1 root root 10 2026-11-22 03:26 iso",
			want: ftpaudit.Entry{Name: "iso", Type: ftpaudit.TypeFile, Size: 10, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "-rw-r--r--", Owner: "root", Group: "root"}},
		{name: "go filemode symlink", line: "Lrwxrwxrwx 1 ftp ftp            3 Nov 22 03:26 cur",
			want: ftpaudit.Entry{Name: "cur", Type: ftpaudit.TypeLink, Size: 3, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "lrwxrwxrwx", Owner: "ftp", Group: "ftp"}},
		{name: "go filemode symlink never split", line: "Lrwxrwxrwx 1 ftp ftp 1 Nov 22 03:26 a -> b",
			want: ftpaudit.Entry{Name: "a -> b", Type: ftpaudit.TypeLink, Size: 1, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "lrwxrwxrwx", Owner: "ftp", Group: "ftp"}},
		{name: "go filemode sticky dir", line: "dtrwxrwxrwx 1 ftp ftp         4096 Nov 22 03:26 tmp",
			want: ftpaudit.Entry{Name: "tmp", Type: ftpaudit.TypeDir, Size: 4096, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "drwxrwxrwt", Owner: "ftp", Group: "ftp"}},
		{name: "go filemode setuid setgid", line: "ugrwxr--r-- 1 ftp ftp 1 Nov 22 03:26 s",
			want: ftpaudit.Entry{Name: "s", Type: ftpaudit.TypeFile, Size: 1, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "-rwsr-Sr--", Owner: "ftp", Group: "ftp"}},
		{name: "go filemode char device", line: "Dcrw-rw-rw- 1 ftp ftp 0 Nov 22 03:26 null",
			want: ftpaudit.Entry{Name: "null", Type: ftpaudit.TypeOther, Size: 0, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "crw-rw-rw-", Owner: "ftp", Group: "ftp"}},
		{name: "total", line: "total 123", skip: true},
		{name: "total human", line: "total 1.5M", skip: true},
		{name: "empty", line: "", skip: true, format: ""},

		{name: "garbage", line: "this is not a listing", err: "unrecognised listing line", format: ""},
		{name: "only spaces line", line: "   ", err: "unrecognised listing line", format: ""},
		{name: "leading space before mode", line: " " + dir + "x", err: "unrecognised listing line", format: ""},
		{name: "missing name", line: strings.TrimSuffix(dir, " "), err: "missing name"},
		{name: "empty name", line: dir, err: "empty name"},
		{name: "no date", line: "drwxr-xr-x    2 0        0            4096", err: "no date found"},
		{name: "bad columns", line: "drwxr-xr-x 2 0 0 x 4096 Nov 22 03:26 y", err: "unrecognised columns before date"},
		{name: "invalid date", line: "drwxr-xr-x 2 0 0 4096 Feb 30  2024 y", err: "invalid date"},
		{name: "size overflow", line: "-rw-r--r-- 1 0 0 9223372036854775808 Nov 22 03:26 y", err: "size out of range"},
		{name: "bad mode", line: "drwxr-xr-q 2 0 0 4096 Nov 22 03:26 y", err: "bad mode field"},
	}
	runListCases(t, cases, ftpaudit.FormatUnix)
}

func TestParseListLineDOS(t *testing.T) {
	dos := func(name string, typ ftpaudit.EntryType, size int64, mod time.Time) ftpaudit.Entry {
		return ftpaudit.Entry{Name: name, Type: typ, Size: size, Modified: mod}
	}
	cases := []listCase{
		{name: "iis dir am", line: "11-22-26  03:26AM       <DIR>          aspnet_client",
			want: dos("aspnet_client", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 3, 26, 0))},
		{name: "iis file pm four digit year", line: "11-22-2026  03:26PM              1234 name",
			want: dos("name", ftpaudit.TypeFile, 1234, utc(2026, 11, 22, 15, 26, 0))},
		{name: "24h clock", line: "11-22-26  15:26                 1234 log.txt",
			want: dos("log.txt", ftpaudit.TypeFile, 1234, utc(2026, 11, 22, 15, 26, 0))},
		{name: "24h clock dir", line: "11-22-2026  00:01       <DIR>          pub",
			want: dos("pub", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 0, 1, 0))},
		{name: "12am is midnight", line: "01-01-26  12:05AM               123456 b.zip",
			want: dos("b.zip", ftpaudit.TypeFile, 123456, utc(2026, 1, 1, 0, 5, 0))},
		{name: "12pm is noon", line: "07-04-24  12:00PM                  802 README.txt",
			want: dos("README.txt", ftpaudit.TypeFile, 802, utc(2024, 7, 4, 12, 0, 0))},
		{name: "two digit year pivot", line: "07-04-99  12:00PM                  802 old",
			want: dos("old", ftpaudit.TypeFile, 802, utc(1999, 7, 4, 12, 0, 0))},
		{name: "iso date", line: "2026-11-22  23:59       <DIR>          iso",
			want: dos("iso", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 23, 59, 0))},
		{name: "separate am pm and commas", line: "11/22/2026  03:26 PM         1,234,567 w.txt",
			want: dos("w.txt", ftpaudit.TypeFile, 1234567, utc(2026, 11, 22, 15, 26, 0))},
		{name: "dir with leading spaces", line: "11-22-26  03:26AM       <DIR>            two",
			want: dos("  two", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 3, 26, 0))},
		{name: "dir only spaces", line: "11-22-26  03:26AM       <DIR>            ",
			want: dos("  ", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 3, 26, 0))},
		{name: "dir trailing spaces", line: "11-22-26  03:26AM       <DIR>          t  ",
			want: dos("t  ", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 3, 26, 0))},
		{name: "dir unpadded", line: "11-22-26  03:26AM <DIR>  x",
			want: dos(" x", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 3, 26, 0))},
		{name: "file with leading space", line: "11-22-26  03:26PM                    5  lead",
			want: dos(" lead", ftpaudit.TypeFile, 5, utc(2026, 11, 22, 15, 26, 0))},
		{name: "file named <DIR>", line: "11-22-26  03:26PM                    5 <DIR>",
			want: dos("<DIR>", ftpaudit.TypeFile, 5, utc(2026, 11, 22, 15, 26, 0))},
		{name: "dots", line: "11-22-26  03:26AM       <DIR>          ...",
			want: dos("...", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 3, 26, 0))},
		{name: "junction", line: "11-22-26  03:26AM    <JUNCTION>     j [C:\\x]",
			want: dos("j [C:\\x]", ftpaudit.TypeLink, -1, utc(2026, 11, 22, 3, 26, 0))},
		{name: "dot skipped", line: "11-22-26  03:26AM       <DIR>          .",
			want: dos(".", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 3, 26, 0)), skip: true},
		{name: "dotdot skipped", line: "11-22-26  03:26AM       <DIR>          ..",
			want: dos("..", ftpaudit.TypeDir, -1, utc(2026, 11, 22, 3, 26, 0)), skip: true},

		{name: "missing name", line: "11-22-26  03:26AM       <DIR>", err: "missing name"},
		{name: "missing column", line: "11-22-26  03:26AM", err: "missing name"},
		{name: "empty name", line: "11-22-26  03:26PM                    5 ", err: "empty name"},
		{name: "bad month", line: "13-40-26  03:26AM       <DIR>          x", err: "invalid date"},
		{name: "bad date shape", line: "1-2-3 03:26AM 5 x", err: "invalid date"},
		{name: "bad hour pm", line: "11-22-26  13:26PM       <DIR>          x", err: "invalid time"},
		{name: "bad time", line: "11-22-26  3pm       <DIR>          x", err: "invalid time"},
		{name: "unknown tag", line: "11-22-26  03:26AM       <FOO>          x", err: "bad size field"},
		{name: "bad size", line: "11-22-26  03:26PM   12a4 x", err: "bad size field"},
		{name: "size overflow", line: "11-22-26  03:26PM   99999999999999999999 x", err: "size out of range"},
	}
	runListCases(t, cases, ftpaudit.FormatDOS)
}

func runListCases(t *testing.T, cases []listCase, defFormat ftpaudit.ListFormat) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := c.now
			if now.IsZero() {
				now = seeds.Now
			}
			e, format, skip, err := ParseListLine(c.line, now)
			wantFormat := defFormat
			if c.line == "" || c.err == "unrecognised listing line" {
				wantFormat = ""
			}
			if format != wantFormat {
				t.Errorf("format = %q, want %q", format, wantFormat)
			}
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if skip != c.skip {
				t.Errorf("skip = %v, want %v", skip, c.skip)
			}
			if c.line == "" || strings.HasPrefix(c.line, "total ") {
				return
			}
			want := c.want
			want.Raw = c.line
			if d := diffEntry(e, want); d != "" {
				t.Errorf("%q:\n%s", c.line, d)
			}
		})
	}
}

func TestParseMLSDLine(t *testing.T) {
	type mcase struct {
		name string
		line string
		want ftpaudit.Entry // Raw filled in from line
		skip bool
		err  string
	}
	cases := []mcase{
		{name: "proftpd dir",
			line: "modify=20261122032600;perm=flcdmpe;type=dir;unique=803U2A0001;UNIX.group=0;UNIX.groupname=root;UNIX.mode=0755;UNIX.owner=0;UNIX.ownername=root; pub",
			want: ftpaudit.Entry{Name: "pub", Type: ftpaudit.TypeDir, Size: -1, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "drwxr-xr-x",
				Owner: "root", Group: "root", Extra: &ftpaudit.EntryExtra{Perm: "flcdmpe", Unique: "803U2A0001", Facts: map[string]string{"modify": "20261122032600", "perm": "flcdmpe", "type": "dir", "unique": "803U2A0001",
					"unix.group": "0", "unix.groupname": "root", "unix.mode": "0755", "unix.owner": "0", "unix.ownername": "root"}}}},
		{name: "pure-ftpd dir with sizd and uid",
			line: "type=dir;sizd=4096;modify=20261122032600;UNIX.mode=0755;UNIX.uid=0;UNIX.gid=0;unique=803g2a0001; pub",
			want: ftpaudit.Entry{Name: "pub", Type: ftpaudit.TypeDir, Size: 4096, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "drwxr-xr-x",
				Owner: "0", Group: "0", Extra: &ftpaudit.EntryExtra{Unique: "803g2a0001", Facts: map[string]string{"type": "dir", "sizd": "4096", "modify": "20261122032600", "unix.mode": "0755",
					"unix.uid": "0", "unix.gid": "0", "unique": "803g2a0001"}}}},
		{name: "goftp case-insensitive facts",
			line: "Type=dir;Modify=20261122032600;Size=4096; pub",
			want: ftpaudit.Entry{Name: "pub", Type: ftpaudit.TypeDir, Size: 4096, Modified: utc(2026, 11, 22, 3, 26, 0), Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "dir", "modify": "20261122032600", "size": "4096"}}}},
		{name: "upper-case values and unknown fact",
			line: "TYPE=FILE;SIZE=5;X.Custom=AbC; f",
			want: ftpaudit.Entry{Name: "f", Type: ftpaudit.TypeFile, Size: 5, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "FILE", "size": "5", "x.custom": "AbC"}}}},
		{name: "owner precedence: owner over uid",
			line: "type=file;UNIX.uid=7;UNIX.owner=bob;UNIX.gid=8;UNIX.group=staff; f",
			want: ftpaudit.Entry{Name: "f", Type: ftpaudit.TypeFile, Size: -1, Owner: "bob", Group: "staff", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file", "unix.uid": "7", "unix.owner": "bob", "unix.gid": "8", "unix.group": "staff"}}}},
		{name: "size preferred over sizd",
			line: "type=dir;sizd=4096;size=1; d",
			want: ftpaudit.Entry{Name: "d", Type: ftpaudit.TypeDir, Size: 1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "dir", "sizd": "4096", "size": "1"}}}},
		{name: "cdir skipped", line: "type=cdir;modify=20261122032600; .",
			want: ftpaudit.Entry{Name: ".", Type: ftpaudit.TypeDir, Size: -1, Modified: utc(2026, 11, 22, 3, 26, 0), Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "cdir", "modify": "20261122032600"}}}, skip: true},
		{name: "pdir skipped", line: "type=pdir; ..",
			want: ftpaudit.Entry{Name: "..", Type: ftpaudit.TypeDir, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "pdir"}}}, skip: true},
		{name: "cdir with odd name still skipped", line: "type=cdir; /srv/ftp",
			want: ftpaudit.Entry{Name: "/srv/ftp", Type: ftpaudit.TypeDir, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "cdir"}}}, skip: true},
		{name: "file named dot is an entry", line: "type=file;size=5; .",
			want: ftpaudit.Entry{Name: ".", Type: ftpaudit.TypeFile, Size: 5, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file", "size": "5"}}}},
		{name: "dir named dotdot is an entry", line: "type=dir; ..",
			want: ftpaudit.Entry{Name: "..", Type: ftpaudit.TypeDir, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "dir"}}}},
		{name: "slink with target", line: "type=OS.unix=slink:/etc/passwd;size=11;UNIX.mode=0777; pw",
			want: ftpaudit.Entry{Name: "pw", Type: ftpaudit.TypeLink, Size: 11, Mode: "lrwxrwxrwx", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "OS.unix=slink:/etc/passwd", "size": "11", "unix.mode": "0777"}, Target: "/etc/passwd"}}},
		{name: "slink target with spaces and equals", line: "type=os.unix=slink:a b=c; l",
			want: ftpaudit.Entry{Name: "l", Type: ftpaudit.TypeLink, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "os.unix=slink:a b=c"}, Target: "a b=c"}}},
		{name: "symlink without target", line: "type=OS.unix=symlink; l",
			want: ftpaudit.Entry{Name: "l", Type: ftpaudit.TypeLink, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "OS.unix=symlink"}}}},
		{name: "other os.unix type", line: "type=OS.unix=chr;UNIX.mode=0666; null",
			want: ftpaudit.Entry{Name: "null", Type: ftpaudit.TypeOther, Size: -1, Mode: "crw-rw-rw-", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "OS.unix=chr", "unix.mode": "0666"}}}},
		{name: "unknown type", line: "type=weird; w",
			want: ftpaudit.Entry{Name: "w", Type: ftpaudit.TypeOther, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "weird"}}}},
		{name: "no type, ifmt bits in mode", line: "UNIX.mode=0100644; f",
			want: ftpaudit.Entry{Name: "f", Type: ftpaudit.TypeOther, Size: -1, Mode: "-rw-r--r--", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"unix.mode": "0100644"}}}},
		{name: "setuid file", line: "type=file;UNIX.mode=4755; s",
			want: ftpaudit.Entry{Name: "s", Type: ftpaudit.TypeFile, Size: -1, Mode: "-rwsr-xr-x", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file", "unix.mode": "4755"}}}},
		{name: "setuid setgid without x", line: "type=file;UNIX.mode=06644; s",
			want: ftpaudit.Entry{Name: "s", Type: ftpaudit.TypeFile, Size: -1, Mode: "-rwSr-Sr--", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file", "unix.mode": "06644"}}}},
		{name: "sticky dir", line: "type=dir;UNIX.mode=1777; tmp",
			want: ftpaudit.Entry{Name: "tmp", Type: ftpaudit.TypeDir, Size: -1, Mode: "drwxrwxrwt", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "dir", "unix.mode": "1777"}}}},
		{name: "sticky without x", line: "type=dir;UNIX.mode=01770; tmp",
			want: ftpaudit.Entry{Name: "tmp", Type: ftpaudit.TypeDir, Size: -1, Mode: "drwxrwx--T", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "dir", "unix.mode": "01770"}}}},
		{name: "all special bits", line: "type=dir;UNIX.mode=7000; x",
			want: ftpaudit.Entry{Name: "x", Type: ftpaudit.TypeDir, Size: -1, Mode: "d--S--S--T", Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "dir", "unix.mode": "7000"}}}},
		{name: "modify with fraction", line: "type=file;modify=20261122032600.123; f",
			want: ftpaudit.Entry{Name: "f", Type: ftpaudit.TypeFile, Size: -1, Modified: time.Date(2026, 11, 22, 3, 26, 0, 123000000, time.UTC), Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file", "modify": "20261122032600.123"}}}},
		{name: "leading space name", line: "type=file;  lead",
			want: ftpaudit.Entry{Name: " lead", Type: ftpaudit.TypeFile, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file"}}}},
		{name: "trailing spaces name", line: "type=file; trail  ",
			want: ftpaudit.Entry{Name: "trail  ", Type: ftpaudit.TypeFile, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file"}}}},
		{name: "spaces-only name", line: "type=dir;   ",
			want: ftpaudit.Entry{Name: "  ", Type: ftpaudit.TypeDir, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "dir"}}}},
		{name: "dots name", line: "type=dir; ...",
			want: ftpaudit.Entry{Name: "...", Type: ftpaudit.TypeDir, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "dir"}}}},
		{name: "semicolons in name", line: "type=file; a; b=c; d",
			want: ftpaudit.Entry{Name: "a; b=c; d", Type: ftpaudit.TypeFile, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file"}}}},
		{name: "invalid utf8 and escapes in name", line: "type=file; \x1b[31m\xff\xfe\t",
			want: ftpaudit.Entry{Name: "\x1b[31m\xff\xfe\t", Type: ftpaudit.TypeFile, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file"}}}},
		{name: "arrow in name", line: "type=file; a -> b",
			want: ftpaudit.Entry{Name: "a -> b", Type: ftpaudit.TypeFile, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{"type": "file"}}}},
		{name: "no facts", line: " bare",
			want: ftpaudit.Entry{Name: "bare", Type: ftpaudit.TypeOther, Size: -1, Extra: &ftpaudit.EntryExtra{Facts: map[string]string{}}}},
		{name: "empty line skipped", line: "", skip: true},

		{name: "no separator", line: "type=file;size=5 name", err: `missing "; " before name`},
		{name: "no space after facts", line: "type=file;name", err: `missing "; " before name`},
		{name: "no facts terminator", line: "type=file name", err: `missing "; " before name`},
		{name: "empty name", line: "type=file; ", err: "empty name"},
		{name: "empty fact", line: "type=file;;size=1; x", err: "empty fact"},
		{name: "fact without value", line: "type=file;bogus; x", err: "malformed fact"},
		{name: "fact with empty key", line: "=x;type=file; x", err: "malformed fact"},
		{name: "fact key with space", line: "ty pe=file; x", err: "malformed fact"},
		{name: "negative size", line: "type=file;size=-5; x", err: "bad size fact"},
		{name: "size overflow", line: "type=file;size=9223372036854775808; x", err: "bad size fact"},
		{name: "bad sizd", line: "type=dir;sizd=4k; x", err: "bad sizd fact"},
		{name: "short modify", line: "type=file;modify=2026; x", err: "bad modify fact"},
		{name: "bad modify date", line: "type=file;modify=20260230000000; x", err: "bad modify fact"},
		{name: "bad modify fraction", line: "type=file;modify=20261122032600.; x", err: "bad modify fact"},
		{name: "bad octal", line: "type=file;UNIX.mode=0999; x", err: "bad unix.mode fact"},
		{name: "empty octal", line: "type=file;UNIX.mode=; x", err: "bad unix.mode fact"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, skip, err := ParseMLSDLine(c.line)
			if c.err != "" {
				if err == nil || err.Error() != c.err {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if skip != c.skip {
				t.Errorf("skip = %v, want %v", skip, c.skip)
			}
			if c.line == "" {
				return
			}
			want := c.want
			want.Raw = c.line
			if d := diffEntry(e, want); d != "" {
				t.Errorf("%q:\n%s", c.line, d)
			}
		})
	}
}

func TestParseListing(t *testing.T) {
	t.Run("unix with terminators", func(t *testing.T) {
		data := "total 8\r\n" +
			"drwxr-xr-x 2 0 0 4096 Nov 22 03:26 .\r\n" +
			"drwxr-xr-x 2 0 0 4096 Nov 22 03:26 ..\r\n" +
			"drwxr-xr-x 2 0 0 4096 Nov 22 03:26 pub\r\n" +
			"\r\n" +
			"garbage here\r\n" +
			"-rw-r--r-- 1 0 0 1 Nov 22 03:26 cr-in-name\r\r\n" +
			"-rw-r--r-- 1 0 0 1 Nov 22 03:26 lf-only\n" +
			"-rw-r--r-- 1 0 0 1 Nov 22 03:26 sp-cr \r\n" +
			"-rw-r--r-- 1 0 0 1 Nov 22 03:26 no-terminator "
		entries, bad := ParseListing([]byte(data), false, seeds.Now)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name)
			if !strings.HasSuffix(e.Raw, e.Name) || strings.HasSuffix(e.Raw, "\n") {
				t.Errorf("Raw %q does not end in name %q", e.Raw, e.Name)
			}
		}
		wantNames := []string{"pub", "cr-in-name\r", "lf-only", "sp-cr ", "no-terminator "}
		if fmt.Sprintf("%q", names) != fmt.Sprintf("%q", wantNames) {
			t.Errorf("names = %q, want %q", names, wantNames)
		}
		if len(bad) != 1 || bad[0].Raw != "garbage here" || bad[0].Err != "unrecognised listing line" {
			t.Errorf("bad = %q", bad)
		}
	})
	t.Run("mixed unix and dos lines", func(t *testing.T) {
		data := "11-22-26  03:26AM       <DIR>          dosdir\r\n" +
			"-rw-r--r-- 1 0 0 1 Nov 22 03:26 unixfile\r\n"
		entries, bad := ParseListing([]byte(data), false, seeds.Now)
		if len(bad) != 0 || len(entries) != 2 || entries[0].Name != "dosdir" || entries[1].Name != "unixfile" {
			t.Errorf("entries = %+v, bad = %+v", entries, bad)
		}
	})
	t.Run("mlsd", func(t *testing.T) {
		data := "type=cdir;modify=20261122032600; .\r\n" +
			"type=pdir;modify=20261122032600; ..\r\n" +
			"type=dir;modify=20261122032600;  pub \r\n" +
			"type=file;size=x; bad\r\n" +
			"\r\n" +
			"type=file;size=1; last"
		entries, bad := ParseListing([]byte(data), true, seeds.Now)
		if len(entries) != 2 || entries[0].Name != " pub " || entries[1].Name != "last" {
			t.Errorf("entries = %+v", entries)
		}
		if len(bad) != 1 || bad[0].Raw != "type=file;size=x; bad" || bad[0].Err != "bad size fact" {
			t.Errorf("bad = %+v", bad)
		}
	})
	t.Run("mlsd mode rejects list lines", func(t *testing.T) {
		entries, bad := ParseListing([]byte("drwxr-xr-x 2 0 0 4096 Nov 22 03:26 pub\n"), true, seeds.Now)
		if len(entries) != 0 || len(bad) != 1 {
			t.Errorf("entries = %+v, bad = %+v", entries, bad)
		}
	})
	t.Run("empty", func(t *testing.T) {
		entries, bad := ParseListing(nil, false, seeds.Now)
		if len(entries) != 0 || len(bad) != 0 {
			t.Errorf("entries = %+v, bad = %+v", entries, bad)
		}
	})
	t.Run("buffer reuse does not change entries", func(t *testing.T) {
		buf := []byte("-rw-r--r-- 1 0 0 1 Nov 22 03:26 name\n")
		entries, _ := ParseListing(buf, false, seeds.Now)
		for i := range buf {
			buf[i] = 'X'
		}
		if entries[0].Name != "name" {
			t.Errorf("Name changed to %q after caller reused its buffer", entries[0].Name)
		}
	})
}

// TestSeedListings parses every sample in testdata/listings and checks that
// nothing is lost: each line is an entry, a skip or a bad line.
func TestSeedListings(t *testing.T) {
	for _, s := range seeds.Listings(t) {
		entries, bad := ParseListing(s.Data, s.MLSD, seeds.Now)
		lines := seeds.SplitLines(s.Data)
		skipped := 0
		for _, l := range lines {
			if skipLine(l, s.MLSD, seeds.Now) {
				skipped++
			}
		}
		if len(entries)+len(bad)+skipped != len(lines) {
			t.Errorf("%s: %d entries + %d bad + %d skipped != %d lines", s.Name, len(entries), len(bad), skipped, len(lines))
		}
		clean := !strings.HasPrefix(s.Name, "garbage") && !strings.HasPrefix(s.Name, "real-")
		if clean && len(bad) != 0 {
			t.Errorf("%s: unexpected bad lines %q", s.Name, bad)
		}
		if strings.HasPrefix(s.Name, "garbage") && len(entries) != 0 {
			t.Errorf("%s: garbage parsed as entries: %+v", s.Name, entries)
		}
	}
}

func BenchmarkParseListing(b *testing.B) {
	var unix, mlsd, dos strings.Builder
	for i := 0; i < 4000; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&unix, "drwxr-xr-x    2 0        0            4096 Nov 22 03:26 directory-%d\r\n", i)
		case 1:
			fmt.Fprintf(&unix, "-rw-r--r--    1 ftp      ftp      %10d Jan 02  2024 file number %d.tar.gz\r\n", i*12345, i)
		case 2:
			fmt.Fprintf(&unix, "lrwxrwxrwx    1 0        0              11 Nov 20 11:02 link-%d -> pub/current\r\n", i)
		case 3:
			fmt.Fprintf(&unix, "-rw-r--r--    1 1000     1000     %10d Oct  1 12:13 data-%d.bin\r\n", i*7, i)
		}
		if i%2 == 0 {
			fmt.Fprintf(&mlsd, "modify=20261122032600;perm=flcdmpe;type=dir;unique=803U2A%04d;UNIX.group=0;UNIX.groupname=root;UNIX.mode=0755;UNIX.owner=0;UNIX.ownername=root; dir-%d\r\n", i, i)
		} else {
			fmt.Fprintf(&mlsd, "type=file;size=%d;modify=20261001121314;UNIX.mode=0644;UNIX.uid=1000;UNIX.gid=1000;unique=803g2a%04d; file-%d.bin\r\n", i*999, i, i)
		}
		if i%2 == 0 {
			fmt.Fprintf(&dos, "11-22-26  03:26AM       <DIR>          dir-%d\r\n", i)
		} else {
			fmt.Fprintf(&dos, "11-22-26  03:26PM           %10d file-%d.txt\r\n", i*31, i)
		}
	}
	for _, bc := range []struct {
		name string
		data []byte
		mlsd bool
	}{
		{"unix", []byte(unix.String()), false},
		{"mlsd", []byte(mlsd.String()), true},
		{"dos", []byte(dos.String()), false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			lines := strings.Count(string(bc.data), "\n")
			b.SetBytes(int64(len(bc.data)))
			b.ReportAllocs()
			for b.Loop() {
				entries, bad := ParseListing(bc.data, bc.mlsd, seeds.Now)
				if len(bad) != 0 || len(entries) != lines {
					b.Fatalf("%d entries, %d bad, want %d entries", len(entries), len(bad), lines)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
		})
	}
}

// BenchmarkParseListLine measures the parser alone, without ParseListing's
// per-listing allocation of the entry slice.
func BenchmarkParseListLine(b *testing.B) {
	lines := []string{
		"drwxr-xr-x    2 0        0            4096 Nov 22 03:26 pub",
		"-rw-r--r--    1 ftp      ftp        123456 Jan 02  2024 file number 1.tar.gz",
		"lrwxrwxrwx    1 0        0              11 Nov 20 11:02 latest -> pub/current",
		"11-22-26  03:26PM                 1234 file.txt",
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			if _, _, _, err := ParseListLine(l, seeds.Now); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
}
