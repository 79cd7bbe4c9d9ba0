package main

import _ "embed"

// demoArchive is the spec of the sample archive (demo/archive.txt) that
// `ftpaudit demo` serves and the CLI tests scan.
//
//go:embed demo/archive.txt
var demoArchive []byte
