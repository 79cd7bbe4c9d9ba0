package rules

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
	"github.com/ftpaudit/ftpaudit/internal/manifest"
)

// fuzzManifestNames are the manifest names FuzzParseManifest parses
// under; the fuzzer picks one with its first argument.
var fuzzManifestNames = []string{
	"ls-lR", "ls-lR.gz", "ls-lR.txt",
	"SHA256SUMS", "MD5SUMS", "SHA1SUMS", "SHA512SUMS", "SHA512SUMS.txt", "md5sum.txt", "sha256sum.txt",
}

// loadSeedManifests reads testdata/manifests: each file named
// "<description>--<manifest name>".
func loadSeedManifests(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "manifests", "*--*"))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(p)] = data
	}
	if len(out) < 3 {
		tb.Fatalf("only %d seed manifests in testdata/manifests", len(out))
	}
	return out
}

func FuzzParseManifest(f *testing.F) {
	for file, data := range loadSeedManifests(f) {
		_, name, _ := strings.Cut(file, "--")
		i := slices.Index(fuzzManifestNames, name)
		if i < 0 {
			f.Fatalf("%s: manifest name %q not in fuzzManifestNames", file, name)
		}
		f.Add(uint8(i), data)
		f.Add(uint8(i|0x80), data)
		if name == "ls-lR" {
			f.Add(uint8(1), gzipped(f, data))
		}
	}
	f.Add(uint8(0), []byte("/srv/ftp:\n-rw-r--r-- 1 a b 1 Jan 1 2020 x\n\n/srv/ftp/y:\n-rw-r--r-- 1 a b 1 Jan 1 2020 z\n\n/etc:\n"))
	f.Add(uint8(0x80), []byte("/0:\nCxxxxxxxxx 0 0 JAn 1 0000 0")) // found by fuzzing: a rebased root
	f.Add(uint8(3), []byte(`\e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a\\b\nc`+"\n"))
	f.Fuzz(func(t *testing.T, sel uint8, data []byte) {
		name := fuzzManifestNames[int(sel&0x7f)%len(fuzzManifestNames)]
		mpath := "/pub/mirror/" + name
		if sel&0x80 != 0 {
			mpath = "/" + name
		}
		m, err := manifest.Parse(mpath, data)
		if err != nil {
			if m != nil {
				t.Fatal("error with a manifest")
			}
			return
		}
		dir, _ := ftppath.Split(mpath)
		if m.Path != mpath || !strings.HasPrefix(m.Root, "/") || !ftppath.AtOrBelow(m.Root, dir) && !m.Rebasable && m.Root != dir {
			t.Fatalf("path %q root %q", m.Path, m.Root)
		}
		if kind, _ := manifest.KindOf(name); m.Kind != kind {
			t.Fatalf("kind %q for %s", m.Kind, name)
		}
		if len(m.Problems) > manifest.MaxProblems+1 {
			t.Fatalf("%d problems", len(m.Problems))
		}
		// Lines in the (possibly decompressed) text: an upper bound for
		// Line when the data was plain.
		maxLine := len(data) + 1
		for i, e := range m.Entries {
			if !ftppath.Below(e.Path, m.Root) || !strings.HasPrefix(e.Path, "/") {
				t.Fatalf("entry %q not below root %q", e.Path, m.Root)
			}
			if i > 0 && m.Entries[i-1].Path >= e.Path {
				t.Fatalf("entries not sorted and unique: %q then %q", m.Entries[i-1].Path, e.Path)
			}
			for _, el := range strings.Split(e.Path[1:], "/") {
				if el == "" || el == "." || el == ".." {
					t.Fatalf("entry %q has element %q", e.Path, el)
				}
			}
			if e.Line < 1 || (data[0] != 0x1f && e.Line > maxLine) {
				t.Fatalf("entry %q line %d", e.Path, e.Line)
			}
			switch m.Kind {
			case ftpaudit.ManifestSums:
				if e.Type != ftpaudit.TypeFile || e.Size != -1 || !manifest.IsHex(e.Hash) || strings.ToLower(e.Hash) != e.Hash {
					t.Fatalf("checksum entry %+v", e)
				}
			case ftpaudit.ManifestLsLR:
				if e.Hash != "" || e.Type == 0 {
					t.Fatalf("ls-lR entry %+v", e)
				}
			}
		}
		// Comparing the manifest with an archive that has its entries
		// (and its root) must not panic, and must report nothing
		// listed as missing.
		h := &ftpaudit.HostResult{Target: ftpaudit.Target{URL: "ftp://fuzz:21", Start: "/"}, Complete: true}
		for d := m.Root; d != "/"; d, _ = ftppath.Split(d) {
			_, n := ftppath.Split(d)
			h.Entries = append(h.Entries, ftpaudit.Entry{Path: d, Name: n, Type: ftpaudit.TypeDir, Size: -1})
		}
		for _, e := range m.Entries {
			_, n := ftppath.Split(e.Path)
			h.Entries = append(h.Entries, ftpaudit.Entry{Path: e.Path, Name: n, Type: e.Type, Size: e.Size})
		}
		for _, f := range manifestBothWays(t, h, []*ftpaudit.Manifest{m}, nil) {
			if f.Rule == ftpaudit.RuleMissingManifest {
				t.Fatalf("missing %q though the archive has it", f.Path)
			}
		}
	})
}
func gzipped(t testing.TB, data []byte) []byte {
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
