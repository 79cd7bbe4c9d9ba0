package main

// The examples of each command's help ("ftpaudit help scan", "scan -h")
// and of the man page's EXAMPLES: written once, here.

import (
	"fmt"
	"io"
)

// example is one example of a command: what it does, and the command line.
type example struct {
	what string // a sentence, without its final period
	cmd  string // one line, pasteable into a shell
}

// commandExamples are a few examples per command, by the name of its flag
// set ("scan", "baseline accept"). Each command line fits the help's width
// (TestHelpLayout).
var commandExamples = map[string][]example{
	"scan": {
		{"Audit one archive anonymously (a table on a terminal, JSON in a pipe)",
			"ftpaudit scan ftp://ftp.example.org/"},
		{"Ask the server whether it takes uploads, with the intended drop boxes declared",
			"ftpaudit scan --probe --policy policy.yaml ftp://ftp.example.org/pub"},
		{"The nightly run: record the scan, compare it with the accepted baseline, and write SARIF for a dashboard",
			"ftpaudit scan --save --baseline accepted -o scan.sarif ftp://ftp.example.org/"},
		{"Every host of a hosts file, with the coverage per host and Prometheus metrics",
			"ftpaudit scan --hosts hosts.yaml --format summary --metrics-file ftpaudit.prom"},
		{"One of four nightly jobs that share a hosts file and a history: this one scans shard 2 of 4",
			"ftpaudit scan --hosts hosts.yaml --shard 2/4 --save --baseline accepted"},
		{"Accept known findings with a suppression file; those it accepts are listed as suppressed",
			"ftpaudit scan --ignore-file .ftpauditignore ftp://ftp.example.org/"},
	},
	"demo": {
		{"Scan the built-in sample archive and show the cleanup table",
			"ftpaudit demo"},
		{"The same, with the active probe, as JSON",
			"ftpaudit demo --probe --format json"},
	},
	"verify": {
		{"After a cleanup: rescan the hosts of saved scan 42 and say which of its findings are gone",
			"ftpaudit verify 42"},
		{"The same, for findings that rested on the probe, and record the rescan",
			"ftpaudit verify --probe --save 42"},
	},
	"history": {
		{"List the saved scans, newest first",
			"ftpaudit history"},
		{"The same, as JSON, from another database",
			"ftpaudit history --format json --db /var/lib/ftpaudit/history.db"},
	},
	"diff": {
		{"What changed from saved scan 41 to saved scan 42",
			"ftpaudit diff 41 42"},
		{"The same, judged with the drop boxes of a hosts file, as JSON",
			"ftpaudit diff --hosts hosts.yaml --format json 41 42"},
	},
	"baseline accept": {
		{"Accept saved scan 42 as the baseline of its hosts, and say why",
			`ftpaudit baseline accept --note "removed the uploads in /incoming" 42`},
		{"Accept only one host of it",
			"ftpaudit baseline accept --host ftp://ftp.example.org 42"},
	},
	"baseline list": {
		{"The current baseline of every host",
			"ftpaudit baseline list"},
	},
	"baseline show": {
		{"Every baseline ever accepted for one host, newest first",
			"ftpaudit baseline show ftp://ftp.example.org"},
	},
	"prune": {
		{"Keep the newest 30 saved scans (and every accepted baseline)",
			"ftpaudit prune --keep 30"},
		{"Delete the scans older than 90 days",
			"ftpaudit prune --older-than 90d"},
	},
}

// writeExamples writes the examples of command cmd, after a blank line;
// nothing when it has none.
func writeExamples(w io.Writer, cmd string) {
	exs := commandExamples[cmd]
	if len(exs) == 0 {
		return
	}
	fmt.Fprint(w, "\nExamples:\n")
	for i, ex := range exs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		for _, l := range wrapText(ex.what+":", helpWidth-4) {
			fmt.Fprintln(w, "  # "+l)
		}
		fmt.Fprintln(w, "  "+ex.cmd)
	}
}
