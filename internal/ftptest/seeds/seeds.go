// Package seeds loads the listing captures in testdata/listings, the seed
// corpus of the parser tests and fuzz targets of every package.
package seeds

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Now is the reference time the seed listings are parsed at: dates
// without a year resolve against it.
var Now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// Listing is one capture: its file name, its bytes, and whether it is
// MLSD output (the file name says "mlsd" or "mlst").
type Listing struct {
	Name string
	Data []byte
	MLSD bool
}

// Dir is the absolute path of testdata/listings.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "listings")
}

// Listings reads every regular file in testdata/listings; it fails tb
// when there is none.
func Listings(tb testing.TB) []Listing {
	tb.Helper()
	paths, err := filepath.Glob(filepath.Join(Dir(), "*"))
	if err != nil {
		tb.Fatal(err)
	}
	var out []Listing
	for _, p := range paths {
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		base := filepath.Base(p)
		lower := strings.ToLower(base)
		out = append(out, Listing{Name: base, Data: data, MLSD: strings.Contains(lower, "mlsd") || strings.Contains(lower, "mlst")})
	}
	if len(out) == 0 {
		tb.Fatal("no seed listings in testdata/listings")
	}
	return out
}

// SplitLines is an independent implementation of the parsers' line
// splitting (LF, with a CR before it dropped), for checking them.
func SplitLines(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	parts := bytes.Split(data, []byte("\n"))
	if len(parts[len(parts)-1]) == 0 {
		parts = parts[:len(parts)-1] // data ended with "\n"
	}
	lines := make([]string, len(parts))
	for i, p := range parts {
		lines[i] = string(bytes.TrimSuffix(p, []byte("\r")))
	}
	return lines
}
