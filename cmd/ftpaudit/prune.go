package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

const pruneUsage = `Usage: ftpaudit prune [--db PATH] [--keep N] [--older-than DURATION]

Deletes saved scans: all but the newest N (--keep), and/or those started
longer ago than DURATION (--older-than, e.g. 720h or 30d). A scan that is
a host's accepted baseline is kept, however old, until another one is
accepted (ftpaudit baseline accept). A kept scan saved as the changes
from a deleted one is rewritten whole first, so it reads back as before.
It prints how many bytes the database shrank by.

Flags:
`

// runPrune is "ftpaudit prune": delete old saved scans.
func runPrune(ctx context.Context, args []string, stdout, stderr io.Writer) outcome {
	var db string
	fs := newFlagSet("prune", stderr, pruneUsage)
	dbFlag(fs, &db)
	keep := fs.Int("keep", 0, "keep the newest N scans")
	older := fs.String("older-than", "", "delete scans started longer ago than this (e.g. 720h, 30d)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return outcome{err: err}
	}
	if len(pos) != 0 || (*keep <= 0 && *older == "") || *keep < 0 {
		return outcome{err: usageError{errors.New("usage: ftpaudit prune [--db PATH] --keep N and/or --older-than DURATION")}}
	}
	var cutoff time.Time
	if *older != "" {
		d, err := parseAge(*older)
		if err != nil {
			return outcome{err: usageError{err}}
		}
		cutoff = time.Now().Add(-d)
	}
	st, err := openStore(ctx, db)
	if err != nil {
		return outcome{err: err}
	}
	defer st.Close()
	p, err := st.PruneWith(ctx, *keep, cutoff)
	if err != nil {
		return outcome{err: outputError{err}}
	}
	fmt.Fprintf(stdout, "deleted %d scans; the database shrank by %d bytes\n", p.Deleted, p.Reclaimed)
	if p.Materialised > 0 {
		fmt.Fprintf(stdout, "rewrote %d kept hosts whole: they were saved as changes from a deleted scan\n", p.Materialised)
	}
	kept, err := st.BaselineScans(ctx)
	if err != nil {
		return outcome{err: outputError{err}}
	}
	if len(kept) > 0 {
		ids := make([]string, len(kept))
		for i, id := range kept {
			ids[i] = strconv.FormatInt(id, 10)
		}
		fmt.Fprintf(stdout, "kept the accepted baselines: scan %s (ftpaudit baseline list)\n", strings.Join(ids, ", "))
	}
	return outcome{}
}

// parseAge parses a Go duration or a number of days ("30d").
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err == nil && days > 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--older-than %q: want a positive duration like 720h or 30d", s)
	}
	return d, nil
}
