package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/entrysrc"
)

// TestEntriesRead: a host whose entries could not all be read back is
// incomplete, says why, and keeps saying it once; a host that read them
// all is left alone.
func TestEntriesRead(t *testing.T) {
	es := []ftpaudit.Entry{{Path: "/a", Name: "a", Type: ftpaudit.TypeFile}, {Path: "/b", Name: "b", Type: ftpaudit.TypeFile}}
	bad := &ftpaudit.HostResult{Target: ftpaudit.Target{Start: "/"}, Complete: true, Source: entrysrc.New(es).FailAfter(1, errors.New("disk on fire"))}
	good := &ftpaudit.HostResult{Target: ftpaudit.Target{Start: "/"}, Complete: true, Source: entrysrc.New(es)}
	for _, h := range []*ftpaudit.HostResult{bad, good} {
		for range h.AllEntries() {
		}
	}
	res := &ftpaudit.Result{Hosts: []*ftpaudit.HostResult{bad, good}}
	entriesRead(res)
	entriesRead(res)
	if bad.Complete || len(bad.Incomplete) != 1 || !strings.Contains(bad.Incomplete[0], "not all read back") {
		t.Errorf("bad host: complete %v, incomplete %q", bad.Complete, bad.Incomplete)
	}
	if len(bad.Errors) != 1 || !strings.Contains(bad.Errors[0].Error, "disk on fire") {
		t.Errorf("bad host errors %+v", bad.Errors)
	}
	if !good.Complete || len(good.Incomplete) != 0 {
		t.Errorf("good host: complete %v, incomplete %q", good.Complete, good.Incomplete)
	}
}
