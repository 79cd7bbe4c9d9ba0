// Package ftpaudit holds the files that the ftpaudit command embeds: the
// sample archive served by `ftpaudit demo`. The tool itself lives in
// cmd/ftpaudit, scanner and report.
package ftpaudit

import _ "embed"

// DemoArchive is the spec of the sample archive (testdata/demo/archive.txt)
// that `ftpaudit demo` serves.
//
//go:embed testdata/demo/archive.txt
var DemoArchive []byte
