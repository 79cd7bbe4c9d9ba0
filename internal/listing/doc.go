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
//
// A line is an entry only when its format places the name in exactly one
// way: a Unix line whose name could start at two places is a BadLine, not
// a guess (see unix.go). docs/listing.md lists the formats known.
//
// Unparsed lines that are error messages ls or the server wrote into the
// data ("ls: cannot open directory .: Permission denied") are recognised
// too: ParseChunksSummary's [Summary] tells a listing from an error
// message sent in its place.
package listing
