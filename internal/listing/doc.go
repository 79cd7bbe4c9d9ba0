// Package listing parses what FTP servers send as directory listings:
// MLSD/MLST lines (RFC 3659), LIST lines in Unix `ls -l` form (including
// the Go os.FileMode form that goftp.io/server emits) or MS-DOS/IIS form,
// and recursive LIST -aR output, split into one section per directory. It
// also merges a directory's MLSD and LIST -a entries.
//
// The parsers are pure: text in, [ftpaudit.Entry] values out, no I/O.
// Names are byte-exact: never trimmed or normalised, whatever follows the
// single separator space is the name, byte for byte. Every line that is
// not skipped yields an entry or an [ftpaudit.BadLine], never nothing.
// No regular expressions; entries are parsed in place, and their names
// and raw lines are substrings of the text given.
package listing
