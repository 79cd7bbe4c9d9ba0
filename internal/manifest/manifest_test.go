package manifest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// ---- helpers ----

// mfEntry is a ManifestEntry in short form for comparisons.
func mfShort(es []ftpaudit.ManifestEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		s := fmt.Sprintf("%s %s", e.Type, e.Path)
		if e.Size >= 0 {
			s += fmt.Sprintf(" %d", e.Size)
		}
		if e.Hash != "" {
			s += " " + e.Hash[:8]
		}
		out[i] = s
	}
	return out
}

func mfParse(t *testing.T, mpath, data string) *ftpaudit.Manifest {
	t.Helper()
	m, err := Parse(mpath, []byte(data))
	if err != nil {
		t.Fatalf("ParseManifest(%q): %v", mpath, err)
	}
	return m
}

func mfEq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %q\n want %q", what, got, want)
	}
}

func mfSeed(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "manifests", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mfGzip(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// problemsMatch checks that each want is a substring of the problem at
// the same index.
func problemsMatch(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("problems: got %d %q, want %d like %q", len(got), got, len(want), want)
		return
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("problem %d: %q does not contain %q", i, got[i], want[i])
		}
	}
}

// ---- ManifestKindOf ----

func TestManifestKindOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind ftpaudit.ManifestKind
	}{
		{"ls-lR", ftpaudit.ManifestLsLR}, {"ls-lR.gz", ftpaudit.ManifestLsLR}, {"ls-lR.txt", ftpaudit.ManifestLsLR},
		{"/pub/ls-lR.gz", ftpaudit.ManifestLsLR},
		{"SHA256SUMS", ftpaudit.ManifestSums}, {"SHA512SUMS", ftpaudit.ManifestSums}, {"SHA1SUMS", ftpaudit.ManifestSums}, {"MD5SUMS", ftpaudit.ManifestSums},
		{"SHA256SUMS.txt", ftpaudit.ManifestSums}, {"MD5SUMS.txt", ftpaudit.ManifestSums},
		{"md5sum.txt", ftpaudit.ManifestSums}, {"sha1sum.txt", ftpaudit.ManifestSums}, {"sha256sum.txt", ftpaudit.ManifestSums}, {"sha512sum.txt", ftpaudit.ManifestSums},
		{"ls-lR.Z", ""}, {"LS-LR", ""}, {"ls-lr", ""}, {"sha256sums", ""}, {"Md5Sums", ""},
		{"foo.iso.sha256", ""}, {"SHA256SUMS.gpg", ""}, {"SHA256SUMS.sign", ""}, {"ls-lR.bz2", ""},
		{"", ""}, {"/", ""}, {"MD5SUMS/", ""}, {"xls-lR", ""},
	} {
		kind, ok := KindOf(tc.name)
		if kind != tc.kind || ok != (tc.kind != "") {
			t.Errorf("ManifestKindOf(%q) = %q, %v; want %q", tc.name, kind, ok, tc.kind)
		}
	}
	// Every name of the table, however long (KindOf screens by length).
	for name := range sumsHexLen {
		if kind, ok := KindOf("/pub/" + name); kind != ftpaudit.ManifestSums || !ok {
			t.Errorf("ManifestKindOf(%q) = %q, %v; want %q", name, kind, ok, ftpaudit.ManifestSums)
		}
	}
}

// ---- ls-lR ----

var gnuSeedEntries = []string{
	"file /README 1234",
	"dir /gnu 4096",
	"file /gnu/README.gnu 789",
	"dir /gnu/hello 4096",
	"file /gnu/hello/hello-2.12.1.tar.gz 1013376",
	"file /gnu/hello/hello-2.12.1.tar.gz.sig 833",
	"file /gnu/hello/hello-2.12.tar.gz 1009765",
	"link /gnu/hello/hello-latest.tar.gz 19",
	"dir /gnu/tar 4096",
	"file /gnu/tar/tar-1.34.tar.xz 2255971",
	"file /gnu/tar/tar-1.34.tar.xz.sig 833",
	"file /ls-lR 10240",
	"file /ls-lR.gz 2048",
	"dir /old-gnu 4096",
	"link /pub 3",
}

func TestManifestLsLRGNUSeed(t *testing.T) {
	data := mfSeed(t, "gnu-mirror--ls-lR")
	m := mfParse(t, "/ls-lR", string(data))
	if m.Kind != ftpaudit.ManifestLsLR || m.Root != "/" || m.Path != "/ls-lR" {
		t.Errorf("kind %q root %q path %q", m.Kind, m.Root, m.Path)
	}
	mfEq(t, "entries", mfShort(m.Entries), gnuSeedEntries)
	problemsMatch(t, m.Problems)
	// Line numbers point into the file.
	lines := strings.Split(string(data), "\n")
	for _, e := range m.Entries {
		_, name := ftppath.Split(e.Path)
		if e.Line < 1 || e.Line > len(lines) || !strings.Contains(lines[e.Line-1], " "+name) {
			t.Errorf("%s: line %d is %q", e.Path, e.Line, lines[max(0, min(e.Line-1, len(lines)-1))])
		}
	}

	// The same listing at /pub: relative headers are relative to the
	// manifest's directory.
	m = mfParse(t, "/pub/ls-lR", string(data))
	if m.Root != "/pub" || len(m.Entries) != len(gnuSeedEntries) || m.Entries[0].Path != "/pub/README" {
		t.Errorf("at /pub: root %q, %d entries, first %q", m.Root, len(m.Entries), m.Entries[0].Path)
	}
}

func TestManifestLsLRGzip(t *testing.T) {
	data := mfSeed(t, "gnu-mirror--ls-lR")
	gz := mfGzip(t, data)
	for _, name := range []string{"/ls-lR.gz", "/ls-lR"} { // magic bytes decide, not the name
		m, err := Parse(name, gz)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		mfEq(t, name, mfShort(m.Entries), gnuSeedEntries)
	}
	// A plain ls-lR named .gz is read as it is.
	m := mfParse(t, "/ls-lR.gz", string(data))
	mfEq(t, "plain .gz", mfShort(m.Entries), gnuSeedEntries)
	// Two gzip members are one stream.
	m2, err := Parse("/ls-lR.gz", append(mfGzip(t, data[:100]), mfGzip(t, data[100:])...))
	if err != nil {
		t.Fatal(err)
	}
	mfEq(t, "two members", mfShort(m2.Entries), gnuSeedEntries)
	// A truncated download is an error, not a partial index.
	if _, err := Parse("/ls-lR.gz", gz[:len(gz)-20]); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Errorf("truncated gzip: err = %v", err)
	}
	if _, err := Parse("/ls-lR.gz", []byte{0x1f, 0x8b, 8}); err == nil {
		t.Error("gzip header only: no error")
	}
}

func TestParseManifestGzipBomb(t *testing.T) {
	// 1 MiB of zeros compresses to about 1 kB; 257 members of it
	// decompress to more than MaxManifestBytes.
	member := mfGzip(t, make([]byte, 1<<20))
	bomb := bytes.Repeat(member, MaxBytes>>20+1)
	start := time.Now()
	_, err := Parse("/pub/ls-lR.gz", bomb)
	if err == nil || !strings.Contains(err.Error(), "bound") {
		t.Fatalf("gzip bomb (%d bytes): err = %v", len(bomb), err)
	}
	t.Logf("bomb of %d bytes rejected in %v: %v", len(bomb), time.Since(start), err)
	// Exactly at the bound is accepted (and is one long line of NULs).
	if testing.Short() {
		return
	}
	m, err := Parse("/pub/ls-lR.gz", bomb[:len(bomb)-len(member)])
	if err != nil {
		t.Fatalf("at the bound: %v", err)
	}
	if len(m.Entries) != 0 || len(m.Problems) != 1 {
		t.Errorf("at the bound: %d entries, problems %q", len(m.Entries), m.Problems)
	}
}

func TestParseManifestTooLarge(t *testing.T) {
	big := make([]byte, MaxBytes+1) // never touched: rejected by its length
	if _, err := Parse("/MD5SUMS", big); err == nil || !strings.Contains(err.Error(), "bound") {
		t.Errorf("too large: err = %v", err)
	}
}

func TestParseManifestBadName(t *testing.T) {
	for _, p := range []string{"ls-lR", "/pub/index.txt", "/pub/", "", "/pub/foo.sha256"} {
		if _, err := Parse(p, []byte("x\n")); err == nil {
			t.Errorf("ParseManifest(%q): no error", p)
		}
	}
}

func TestManifestLsLRHeaders(t *testing.T) {
	const f1 = "-rw-r--r--  1 ftp ftp  10 Jan  1  2020 "
	const d1 = "drwxr-xr-x  2 ftp ftp 512 Jan  1  2020 "
	for _, tc := range []struct {
		name, mpath, data string
		root              string
		Rebasable         bool
		want              []string
		problems          []string
	}{
		{
			name:  "headerless first section, bare relative header",
			mpath: "/ls-lR",
			data:  "total 2\n" + d1 + "pub\n" + f1 + "README\n\npub:\ntotal 1\n" + f1 + "a\n",
			root:  "/",
			want:  []string{"file /README 10", "dir /pub 512", "file /pub/a 10"},
		},
		{
			name:  "GNU ls -lRa: . and .. skipped, ./ headers, empty section",
			mpath: "/mirror/ls-lR",
			data: ".:\ntotal 3\n" + d1 + ".\n" + d1 + "..\n" + d1 + "x\n\n./x:\ntotal 0\n\n./x/../x:\n" + f1 + "no\n\n" +
				"./x/./y:\n" + f1 + "b\n",
			root:     "/mirror",
			want:     []string{"dir /mirror/x 512", "file /mirror/x/y/b 10"},
			problems: []string{`line 10: section header ./x/../x: climbs with ".."`},
		},
		{
			name:  "absolute headers that are archive paths",
			mpath: "/pub/ls-lR",
			data:  "/pub:\n" + d1 + "sub\n" + f1 + "ls-lR\n\n/pub/sub:\n" + f1 + "a\n\n/etc:\n" + f1 + "passwd\n",
			root:  "/pub",
			want:  []string{"file /pub/ls-lR 10", "dir /pub/sub 512", "file /pub/sub/a 10"},
			problems: []string{
				"line 8: section header /etc: lies outside the index's root /pub",
			},
		},
		{
			name:      "absolute headers below the manifest's directory: a subtree",
			mpath:     "/pub/ls-lR",
			data:      "/pub/gnu:\n" + f1 + "a\n\n/pub/gnu/x:\n" + f1 + "b\n\n./other:\n" + f1 + "c\n",
			root:      "/pub/gnu",
			Rebasable: true,
			want:      []string{"file /pub/gnu/a 10", "file /pub/gnu/x/b 10"},
			problems:  []string{"line 7: section header ./other: lies outside the index's root /pub/gnu"},
		},
		{
			name:      "server paths at the archive root: Root taken as the header, rebased later",
			mpath:     "/ls-lR",
			data:      "/srv/ftp:\n" + d1 + "pub\n\n/srv/ftp/pub:\n" + f1 + "a\n",
			root:      "/srv/ftp",
			Rebasable: true,
			want:      []string{"dir /srv/ftp/pub 512", "file /srv/ftp/pub/a 10"},
		},
		{
			name:  "GNU server paths: first header is the manifest's directory",
			mpath: "/pub/ls-lR",
			data:  "/srv/ftp/pub:\ntotal 1\n" + d1 + "gnu\n\n/srv/ftp/pub/gnu:\n" + f1 + "a\n\n/srv/ftp/etc:\n" + f1 + "shadow\n",
			root:  "/pub",
			want:  []string{"dir /pub/gnu 512", "file /pub/gnu/a 10"},
			problems: []string{
				"line 8: section header /srv/ftp/etc: lies outside /srv/ftp/pub, taken as the server's path of /pub",
			},
		},
		{
			name:  "headers without a blank line before them, trailing slash",
			mpath: "/ls-lR",
			data:  f1 + "a\n./d/:\n" + f1 + "b\n/d/e:\n" + f1 + "c\n",
			root:  "/",
			want:  []string{"file /a 10", "file /d/b 10", "file /d/e/c 10"},
		},
		{
			name:  "bad lines, odd names, links, duplicates",
			mpath: "/ls-lR",
			data: "total 5\n" + f1 + "a b \n" + "lrwxrwxrwx  1 ftp ftp 4 Jan  1  2020 l -> a b \n" +
				"garbage line\n" + f1 + "x/y\n" + f1 + "..\n" + "ls: cannot open directory './priv': Permission denied\n" +
				"\n./d:\n" + f1 + "k\n" + "\n./d:\n" + f1 + "k\n" + "\n:\n" + f1 + "lost\n",
			root: "/",
			want: []string{"file /a b  10", "file /d/k 10", "link /l 4"},
			problems: []string{
				"line 4: unrecognised listing line: garbage line",
				`line 5: name x/y contains "/"`,
				`line 6: file named ".."`,
				"line 7: ",
				"line 15: section header : is empty",
				"line 13: /d/k listed again (first at line 10)",
			},
		},
		{
			name:  "a blank line inside a section, header-looking file name",
			mpath: "/ls-lR",
			data:  f1 + "a\n\n" + f1 + "b:\n" + f1 + "c\n",
			root:  "/",
			// After a blank line "…b:" is a header, as ls would mean it;
			// its path is not absolute or ./, so it is relative.
			want: []string{"file /-rw-r--r--  1 ftp ftp  10 Jan  1  2020 b/c 10", "file /a 10"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mfParse(t, tc.mpath, tc.data)
			if m.Root != tc.root || m.Rebasable != tc.Rebasable {
				t.Errorf("root %q Rebasable %v, want %q %v", m.Root, m.Rebasable, tc.root, tc.Rebasable)
			}
			mfEq(t, "entries", mfShort(m.Entries), tc.want)
			problemsMatch(t, m.Problems, tc.problems...)
		})
	}
}

func TestManifestLsLRBSDServerPathsSeed(t *testing.T) {
	m := mfParse(t, "/pub/ls-lR", string(mfSeed(t, "bsd-server-paths--ls-lR")))
	if m.Root != "/pub" || m.Rebasable {
		t.Errorf("root %q Rebasable %v", m.Root, m.Rebasable)
	}
	mfEq(t, "entries", mfShort(m.Entries), []string{
		"dir /pub/FreeBSD 512",
		"file /pub/FreeBSD/README.TXT 1876",
		"dir /pub/FreeBSD/releases 512",
		"file /pub/FreeBSD/releases/CHECKSUM.SHA256-14.0 4312",
		"file /pub/INDEX 512",
		"dir /pub/incoming 512",
	})
	problemsMatch(t, m.Problems)
}

func TestParseManifestProblemsBounded(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 250; i++ {
		b.WriteString("not a checksum line\n")
	}
	b.WriteString("d41d8cd98f00b204e9800998ecf8427e  ok\n")
	m := mfParse(t, "/MD5SUMS", b.String())
	if len(m.Problems) != 101 || m.Problems[100] != "and 150 more problems" || !strings.HasPrefix(m.Problems[99], "line 100: ") {
		t.Errorf("%d problems, last %q", len(m.Problems), m.Problems[len(m.Problems)-1])
	}
	mfEq(t, "entries", mfShort(m.Entries), []string{"file /ok d41d8cd9"})
}

func TestParseManifestPathBound(t *testing.T) {
	defer func(n int) { maxManifestPathBytes = n }(maxManifestPathBytes)
	maxManifestPathBytes = 1 << 20
	// A 4 kB section header and 300 short lines: 1.2 MB of paths from
	// 15 kB of input.
	hdr := "./" + strings.Repeat("d", 4096) + ":\n"
	data := "\n" + hdr + strings.Repeat("-rw-r--r-- 1 a b 1 Jan 1 2020 x\n", 300)
	if _, err := Parse("/ls-lR", []byte(data)); err == nil || !strings.Contains(err.Error(), "bound") {
		t.Errorf("err = %v", err)
	}
}

func TestParseManifestDeepPaths(t *testing.T) {
	// 200,000 path elements in a header and in a checksum name: joining
	// element by element would copy about 20 GB and never finish within
	// the test timeout; linear work takes well under a second. (No wall
	// clock check: timings belong in benchmarks.)
	deep := strings.Repeat("a/", 200000) + "b"
	m := mfParse(t, "/ls-lR", "./"+deep+":\n-rw-r--r-- 1 a b 1 Jan 1 2020 x\n")
	if len(m.Entries) != 1 || m.Entries[0].Path != "/"+deep+"/x" {
		t.Errorf("ls-lR: %d entries", len(m.Entries))
	}
	m = mfParse(t, "/MD5SUMS", "d41d8cd98f00b204e9800998ecf8427e  ./"+deep+"\n")
	if len(m.Entries) != 1 || m.Entries[0].Path != "/"+deep {
		t.Errorf("MD5SUMS: %d entries", len(m.Entries))
	}
}

// ---- checksums ----

func TestManifestSumsSeeds(t *testing.T) {
	m := mfParse(t, "/pub/SHA256SUMS", string(mfSeed(t, "debian-escaped--SHA256SUMS")))
	mfEq(t, "SHA256SUMS", mfShort(m.Entries), []string{
		"file /pub/debian-12.5.0-amd64-DVD-1.iso 9363d67b",
		"file /pub/debian-12.5.0-amd64-netinst.iso 36d1e546",
		"file /pub/firmware/README.txt 07f7ab47",
		"file /pub/weird\\name\nwith-newline.txt 0728c355",
	})
	problemsMatch(t, m.Problems)
	if m.Kind != ftpaudit.ManifestSums || m.Root != "/pub" || m.Entries[0].Line != 2 || m.Entries[0].Size != -1 || len(m.Entries[0].Hash) != 64 {
		t.Errorf("kind %q root %q first %+v", m.Kind, m.Root, m.Entries[0])
	}

	m = mfParse(t, "/OpenBSD/7.4/amd64/MD5SUMS", string(mfSeed(t, "openbsd-tag--MD5SUMS")))
	mfEq(t, "MD5SUMS", mfShort(m.Entries), []string{
		"file /OpenBSD/7.4/amd64/INSTALL.amd64 " + m.Entries[0].Hash[:8],
		"file /OpenBSD/7.4/amd64/bsd.rd " + m.Entries[1].Hash[:8],
		"file /OpenBSD/7.4/amd64/install74.iso " + m.Entries[2].Hash[:8],
		"file /OpenBSD/7.4/amd64/man74.tgz " + m.Entries[3].Hash[:8],
	})
	for _, e := range m.Entries {
		if len(e.Hash) != 32 || strings.ToLower(e.Hash) != e.Hash {
			t.Errorf("%s: hash %q", e.Path, e.Hash)
		}
	}
	problemsMatch(t, m.Problems)

	m = mfParse(t, "/alpine/SHA512SUMS", string(mfSeed(t, "clearsigned--SHA512SUMS")))
	if len(m.Entries) != 2 || m.Entries[0].Path != "/alpine/alpine-standard-3.19.1-x86_64.iso" || m.Entries[0].Line != 4 {
		t.Errorf("clear-signed: %q", mfShort(m.Entries))
	}
	problemsMatch(t, m.Problems)
}

func TestManifestSumsLines(t *testing.T) {
	h32 := "d41d8cd98f00b204e9800998ecf8427e"
	h64 := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	data := strings.Join([]string{
		"# a comment",
		h64 + "  plain",
		h64 + " *bin.iso",
		h64 + "  ./dot/./slash//name",
		h64 + "   leading space",
		h64 + " single-space",
		`\` + h64 + `  back\\slash`,
		h64 + `  literal\n`,
		"SHA256 (tagged (1).txt) = " + strings.ToUpper(h64),
		"SHA2-256(openssl)= " + h64,
		`\SHA256 (esc\naped) = ` + h64,
		h32 + "  short",
		"SHA256 (wrongtag) = " + h32,
		h64 + "  ../escape",
		h64 + "  sub/../../escape",
		h64 + "  /etc/passwd",
		h64 + "  ./",
		`\` + h64 + `  bad\tescape`,
		`\` + h64 + `  trailing\`,
		"zz" + h64[2:] + "  nothex",
		h64,
		h64 + "  ",
		h64 + "  plain",
		"",
		"MD5 (x) = " + h32 + "\r",
	}, "\n")
	m := mfParse(t, "/pub/SHA256SUMS", data)
	mfEq(t, "entries", mfShort(m.Entries), []string{
		"file /pub/ leading space e3b0c442",
		"file /pub/back\\slash e3b0c442",
		"file /pub/bin.iso e3b0c442",
		"file /pub/dot/slash/name e3b0c442",
		"file /pub/esc\naped e3b0c442",
		"file /pub/literal\\n e3b0c442",
		"file /pub/openssl e3b0c442",
		"file /pub/plain e3b0c442",
		"file /pub/single-space e3b0c442",
		"file /pub/tagged (1).txt e3b0c442",
		"file /pub/x d41d8cd9",
	})
	problemsMatch(t, m.Problems,
		"line 12: digest has 32 hex digits, want 64",
		"line 13: digest has 32 hex digits, want 64",
		`line 14: name ../escape climbs out`,
		`line 15: name sub/../../escape climbs out`,
		"line 16: absolute name /etc/passwd",
		"line 17: name ./ names the index's directory itself",
		`line 18: unknown escape "\t"`,
		`line 19: escaped name ends in a lone "\"`,
		"line 20: not a checksum line",
		"line 21: not a checksum line",
		"line 22: no file name",
		"line 23: /pub/plain listed again (first at line 2)",
	)
	for _, e := range m.Entries {
		if e.Hash != strings.ToLower(e.Hash) || e.Size != -1 || e.Type != ftpaudit.TypeFile {
			t.Errorf("%+v", e)
		}
	}
}

// ---- comparison ----
