package listing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/seeds"
)

// formatExamples are the example lines of docs/listing.md ("Which listing
// formats are known"), one per format: each must parse, and the document
// must show each.
var formatExamples = []string{
	"drwxr-xr-x    2 0        0            4096 Nov 22 03:26 pub",
	"-rw-r--r--    1 ftp      ftp          802 Jul  4  2024 README",
	"-rw-r--r--    1 ftp          802 Nov 22  2024 README",
	"-rw-r--r-- ftp ftp 802 Nov 22  2024 README",
	"drwxr-xr-x 1           4096 Nov 22 03:26 pub",
	"-rw-r--r--   1 joe Domain Users   1234 Jan  2 03:04 file name.txt",
	"-rw-r--r--   1 root root   1234 2005-04-08 11:22 f",
	"-rw-r--r--   1 root root   1234 2005-04-08 11:22:33.123456789 +0200 f",
	"-rw-r--r--   1 root root   1234  8月 17日 20:10 f",
	"-rw-r--r--   1 root root   1234  6月 3日 2003年 f",
	"-rw-r--r--   1 root root   1234  8 月 17日 20:10 f",
	"-rw-r--r--   1 root root   1234 12月 17  2003 f",
	"-rw-r--r--   1 root root   1234  8월 17일 20:10 f",
	"drwxr-x---+1464 owner group 4096 Jan  2 03:04 d",
	"drwxr-xr-x+  5 root root 4096 Nov 22 03:26 acl",
	"-rw-r--r--@  1 root staff 5 Nov 22 03:26 xattr",
	"-rw-r--r--.  1 root root 5 Nov 22 03:26 selinux",
	"crw-rw-rw-   1 root root   1,   3 Jan  1  2020 null",
	"crw-------   1 root root   0, 27 Jan  2 03:04 tty27",
	"crw-rw-rw-  1 root  wheel  0x2000002 Nov 22 03:26 null",
	"-rw-r--r--   1 ftp ftp   5 Jan  2 3:04 one-digit-hour",
	"-rw-r--r--   1 ftp ftp   4294967297 Jan  2 03:04 big",
	"-rw-r--r--   1 ftp ftp   5 Jan  2 03:04   two leading spaces",
	"lrwxrwxrwx   1 ftp ftp  11 Nov 22 03:26 latest -> pub/current",
	"Lrwxrwxrwx 1 ftp ftp            3 Nov 22 03:26 cur",
	"dtrwxrwxrwx 1 ftp ftp         4096 Nov 22 03:26 tmp",
	"11-22-26  03:26AM       <DIR>          aspnet_client",
	"11-22-2026  15:26                 1234 log.txt",
	"2026-11-22  23:59       <DIR>          iso-dated",
	"11/22/2026  03:26 PM         1,234,567 a b.txt",
	"11/22/2026  03:26 PM         1.234.567 dotted.txt",
	"11-22-26  03:26p             1234 old-dir.txt",
	"11-22-26  03:26AM       <DIR>            two leading spaces",
}

func TestFormatExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "listing.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range formatExamples {
		if _, _, skip, err := ParseListLine(l, seeds.Now); err != nil || skip {
			t.Errorf("%q: err %v, skip %v", l, err, skip)
		}
		if !strings.Contains(string(doc), "\n"+l+"\n") {
			t.Errorf("docs/listing.md does not show %q on a line of its own", l)
		}
	}
}

// TestListFormats is one example line per format docs/listing.md names
// ("Which listing formats are known"), and the lines near them that must
// stay errors.
func TestListFormats(t *testing.T) {
	type want = ftpaudit.Entry
	file := func(name string, size int64, mod time.Time, owner, group string) want {
		return want{Name: name, Type: ftpaudit.TypeFile, Size: size, Modified: mod, Mode: "-rw-r--r--", Owner: owner, Group: group}
	}
	jan2 := utc(2026, 1, 2, 3, 4, 0)
	cases := []listCase{
		// Owner and group names with spaces: the split between them is
		// not in the line, so both are left empty.
		{name: "group with a space", line: "-rw-r--r--   1 joe Domain Users   1234 Jan  2 03:04 file name.txt",
			want: file("file name.txt", 1234, jan2, "", "")},
		{name: "owner and group with spaces", line: "-rw-r--r--   1 John Smith Domain Users   1234 Jan  2 03:04 f",
			want: file("f", 1234, jan2, "", "")},
		{name: "spaced group, no link count", line: "-rw-r--r-- joe Domain Users 1234 Jan  2 03:04 f",
			want: file("f", 1234, jan2, "", "")},
		{name: "cygwin numeric owner, spaced group", line: "-rw-r--r-- 1 197609 Domain Users 7 Jan  2 03:04 f",
			want: file("f", 7, jan2, "", "")},
		{name: "spaced group, device", line: "crw-rw-rw- 1 SYSTEM NT Service 1, 3 Jan  2 03:04 null",
			want: want{Name: "null", Type: ftpaudit.TypeOther, Size: -1, Modified: jan2, Mode: "crw-rw-rw-"}},
		{name: "no group column", line: "-rw-r--r--   1 owner   1234 Jan  2  2003 f",
			want: file("f", 1234, utc(2003, 1, 2, 0, 0, 0), "owner", "")},
		{name: "long-iso", line: "-rw-r--r--   1 ftp ftp   1234 2005-04-08 11:22 f",
			want: file("f", 1234, utc(2005, 4, 8, 11, 22, 0), "ftp", "ftp")},
		{name: "full-iso", line: "-rw-r--r--   1 ftp ftp   1234 2005-04-08 11:22:33.123456789 +0200 f",
			want: file("f", 1234, time.Date(2005, 4, 8, 9, 22, 33, 123456789, time.UTC), "ftp", "ftp")},
		{name: "full-iso negative zone, no fraction", line: "-rw-r--r-- 1 ftp ftp 1 2005-04-08 11:22:33 -0130 f",
			want: file("f", 1, utc(2005, 4, 8, 12, 52, 33), "ftp", "ftp")},
		{name: "japanese recent", line: "-rw-r--r--   1 ftp ftp   1234  8月 17日 20:10 f",
			want: file("f", 1234, utc(2026, 8, 17, 20, 10, 0), "ftp", "ftp")},
		{name: "japanese old", line: "-rw-r--r--   1 ftp ftp   1234  6月 3日 2003年 f",
			want: file("f", 1234, utc(2003, 6, 3, 0, 0, 0), "ftp", "ftp")},
		{name: "japanese, space before the month sign", line: "-rw-r--r--   1 ftp ftp   1234  8 月 17日 20:10 f",
			want: file("f", 1234, utc(2026, 8, 17, 20, 10, 0), "ftp", "ftp")},
		{name: "chinese ls (day without sign)", line: "-rw-r--r--   1 ftp ftp   1234 12月 17  2003 f",
			want: file("f", 1234, utc(2003, 12, 17, 0, 0, 0), "ftp", "ftp")},
		{name: "korean", line: "-rw-r--r--   1 ftp ftp   1234  8월 17일 20:10 f",
			want: file("f", 1234, utc(2026, 8, 17, 20, 10, 0), "ftp", "ftp")},
		{name: "korean old", line: "-rw-r--r--   1 ftp ftp   1234  8월 17일 2003년 f",
			want: file("f", 1234, utc(2003, 8, 17, 0, 0, 0), "ftp", "ftp")},
		{name: "link count glued to acl mode", line: "drwxr-x---+1464 owner group 4096 Jan  2 03:04 d",
			want: want{Name: "d", Type: ftpaudit.TypeDir, Size: 4096, Modified: jan2, Mode: "drwxr-x---", Owner: "owner", Group: "group"}},
		{name: "link count glued to mode", line: "-rw-r--r--12 owner group 5 Jan  2 03:04 f",
			want: file("f", 5, jan2, "owner", "group")},
		{name: "macos xattr marker", line: "-rw-r--r--@ 1 owner staff 5 Jan  2 03:04 f",
			want: file("f", 5, jan2, "owner", "staff")},
		{name: "device, major and minor apart", line: "crw-rw-rw- 1 root root 1, 3 Jan 1 2020 null",
			want: want{Name: "null", Type: ftpaudit.TypeOther, Size: -1, Modified: utc(2020, 1, 1, 0, 0, 0), Mode: "crw-rw-rw-", Owner: "root", Group: "root"}},
		{name: "device 0, 27", line: "crw-------   1 root root   0, 27 Jan  2 03:04 tty27",
			want: want{Name: "tty27", Type: ftpaudit.TypeOther, Size: -1, Modified: jan2, Mode: "crw-------", Owner: "root", Group: "root"}},
		{name: "one-digit hour", line: "-rw-r--r-- 1 ftp ftp 5 Jan  2 3:04 f", want: file("f", 5, jan2, "ftp", "ftp")},
		{name: "size past 4 GiB", line: "-rw-r--r-- 1 ftp ftp 4294967297 Jan  2 03:04 f", want: file("f", 4294967297, jan2, "ftp", "ftp")},
		{name: "size 2^62", line: "-rw-r--r-- 1 ftp ftp 4611686018427387904 Jan  2 03:04 f", want: file("f", 1<<62, jan2, "ftp", "ftp")},
		{name: "name with spaces at both ends", line: "-rw-r--r-- 1 ftp ftp 5 Jan  2 03:04   a b  ", want: file("  a b  ", 5, jan2, "ftp", "ftp")},
		{name: "name after a year keeps its spaces", line: "-rw-r--r-- 1 ftp ftp 5 Jan  2  2003  x ", want: file(" x ", 5, utc(2003, 1, 2, 0, 0, 0), "ftp", "ftp")},
		{name: "name like a date and columns", line: "-rw-r--r-- 1 ftp ftp 5 Jan  2 03:04 5 Jan  1  2020 x",
			want: file("5 Jan  1  2020 x", 5, jan2, "ftp", "ftp")},
		{name: "name like a spaced group and a date", line: "-rw-r--r-- 1 ftp 9 Jan 1 2020 5 Jan 2 03:04 x",
			want: file("5 Jan 2 03:04 x", 9, utc(2020, 1, 1, 0, 0, 0), "ftp", "")},
		{name: "goftp empty owner, name like a date", line: "drwxr-xr-x 1  4096 Nov 22 03:26 5 Jan 2 03:04 x",
			want: want{Name: "5 Jan 2 03:04 x", Type: ftpaudit.TypeDir, Size: 4096, Modified: utc(2026, 11, 22, 3, 26, 0), Mode: "drwxr-xr-x"}},
		{name: "name like a japanese date", line: "-rw-r--r-- 1 ftp ftp 5 Jan  2 03:04 8 月 17日 20:10 x",
			want: file("8 月 17日 20:10 x", 5, jan2, "ftp", "ftp")},

		// Lines that stay errors.
		{name: "date-only iso is not a known format", line: "-rw-r--r-- 1 ftp ftp 5 2005-04-08 f", err: "no date found"},
		{name: "full-iso without zone", line: "-rw-r--r-- 1 ftp ftp 5 2005-04-08 11:22:33 f", err: "no date found"},
		{name: "human size", line: "-rw-r--r-- 1 ftp ftp 1.5K Jan  2 03:04 f", err: "unrecognised columns before date"},
		{name: "unknown date (german), name like a date", line: "-rw-r--r-- 1 ftp ftp 5 22. Nov 03:26 1 Jan 2 2020 x", err: "unrecognised columns before date"},
		{name: "spaced group holding a month", line: "-rw-r--r-- 1 joe May Users 5 Jan  2 03:04 f", err: "unrecognised columns before date"},
		{name: "spaced group holding a clock", line: "-rw-r--r-- 1 joe a:b Users 5 Jan  2 03:04 f", err: "unrecognised columns before date"},
		{name: "spaced group holding a number", line: "-rw-r--r-- 1 joe 12 Users 5 Jan  2 03:04 f", err: "unrecognised columns before date"},
		{name: "too many owner and group tokens", line: "-rw-r--r-- 1 a b c d e f g 5 Jan  2 03:04 f", err: "unrecognised columns before date"},
		{name: "size past int64", line: "-rw-r--r-- 1 ftp ftp 18446744073709551616 Jan  2 03:04 f", err: "size out of range"},
		{name: "size past int64, spaced group", line: "-rw-r--r-- 1 joe Domain Users 18446744073709551616 Jan  2 03:04 f", err: "size out of range"},
		{name: "japanese month 13", line: "-rw-r--r-- 1 ftp ftp 5 13月 17日 20:10 f", err: "invalid date"},
		{name: "full-iso bad zone", line: "-rw-r--r-- 1 ftp ftp 5 2005-04-08 11:22:33 +2500 f", err: "no date found"},
		{name: "glued count, bad digits", line: "drwxr-x---+14x4 owner group 4096 Jan  2 03:04 d", err: "bad mode field"},
		{name: "device with a date-like size", line: "crw-rw-rw- 1 0 0 2024-01-02 Jan  2 03:04 d", err: "unrecognised columns before date"},
	}
	runListCases(t, cases, ftpaudit.FormatUnix)
}

func TestDOSFormats(t *testing.T) {
	dos := func(name string, typ ftpaudit.EntryType, size int64, mod time.Time) ftpaudit.Entry {
		return ftpaudit.Entry{Name: name, Type: typ, Size: size, Modified: mod}
	}
	cases := []listCase{
		{name: "two-digit year, 12 hour", line: "04-08-05  11:22AM                 1234 f",
			want: dos("f", ftpaudit.TypeFile, 1234, utc(2005, 4, 8, 11, 22, 0))},
		{name: "four-digit year, 24 hour", line: "04-08-2005  23:22                 1234 f",
			want: dos("f", ftpaudit.TypeFile, 1234, utc(2005, 4, 8, 23, 22, 0))},
		{name: "windows dir: slashes, spaced PM, thousands commas", line: "04/08/2005  11:22 PM         1,234,567 a b.txt",
			want: dos("a b.txt", ftpaudit.TypeFile, 1234567, utc(2005, 4, 8, 23, 22, 0))},
		{name: "thousands dots", line: "04.08.2005  11:22         1.234.567 f",
			err: "invalid date"}, // dotted dates are day-first in the locales that use them: not guessed
		{name: "thousands dots, slash date", line: "04/08/2005  11:22         1.234.567 f",
			want: dos("f", ftpaudit.TypeFile, 1234567, utc(2005, 4, 8, 11, 22, 0))},
		{name: "old dir: one-letter am/pm", line: "04-08-05  11:22p            1234 f",
			want: dos("f", ftpaudit.TypeFile, 1234, utc(2005, 4, 8, 23, 22, 0))},
		{name: "dir tag padded, leading spaces kept", line: "04-08-05  11:22AM       <DIR>            two",
			want: dos("  two", ftpaudit.TypeDir, -1, utc(2005, 4, 8, 11, 22, 0))},
		{name: "file, leading spaces kept", line: "04-08-05  11:22AM                 1234   f ",
			want: dos("  f ", ftpaudit.TypeFile, 1234, utc(2005, 4, 8, 11, 22, 0))},
		{name: "size past 4 GiB", line: "04-08-05  11:22AM           4294967297 f",
			want: dos("f", ftpaudit.TypeFile, 4294967297, utc(2005, 4, 8, 11, 22, 0))},

		{name: "commas not by three", line: "04-08-05  11:22AM    1,23 f", err: "bad size field"},
		{name: "mixed separators", line: "04-08-05  11:22AM    1,234.567 f", err: "bad size field"},
		{name: "leading separator group too long", line: "04-08-05  11:22AM    1234,567 f", err: "bad size field"},
		{name: "trailing separator", line: "04-08-05  11:22AM    1,234, f", err: "bad size field"},
		{name: "one-letter am/pm on a bad hour", line: "04-08-05  13:22p    1 f", err: "invalid time"},
	}
	runListCases(t, cases, ftpaudit.FormatDOS)
}
