package main

// Passwords of named users given on the command line: from
// FTPAUDIT_PASSWORD or ~/.netrc, never from the command line itself.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/ftpaudit/ftpaudit"
)

// passwordsFor looks up the password of every target with a named user,
// by target URL.
func passwordsFor(targets []ftpaudit.Target) (map[string]string, error) {
	passwords := map[string]string{}
	for _, t := range targets {
		if t.User == "anonymous" || t.User == "ftp" {
			continue
		}
		p, err := lookupPassword(t)
		if err != nil {
			return nil, usageError{err}
		}
		passwords[t.URL] = p
	}
	return passwords, nil
}

// lookupPassword finds the password for a named user: FTPAUDIT_PASSWORD,
// then ~/.netrc.
func lookupPassword(t ftpaudit.Target) (string, error) {
	if p := os.Getenv("FTPAUDIT_PASSWORD"); p != "" {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err == nil {
		if p, ok, err := netrcPassword(home+"/.netrc", t.Host, t.User); err != nil {
			return "", err
		} else if ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("no password for %s: set FTPAUDIT_PASSWORD or add a machine entry to ~/.netrc", t.URL)
}

// netrcPassword returns the password of login on machine from a .netrc
// file (or the default entry). A missing file is not an error.
func netrcPassword(path, machine, login string) (string, bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	toks := strings.Fields(string(b))
	type entry struct{ machine, login, password string }
	var entries []entry
	var cur *entry
	for i := 0; i < len(toks); i++ {
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		switch toks[i] {
		case "machine":
			entries = append(entries, entry{machine: next()})
			cur = &entries[len(entries)-1]
		case "default":
			entries = append(entries, entry{machine: ""})
			cur = &entries[len(entries)-1]
		case "login":
			if v := next(); cur != nil {
				cur.login = v
			}
		case "password":
			if v := next(); cur != nil {
				cur.password = v
			}
		case "account":
			next()
		case "macdef":
			// A macro runs to the next blank line; fields lose that, so
			// stop here: nothing after a macdef is trusted.
			i = len(toks)
		}
	}
	for _, e := range entries {
		if e.machine == machine && (e.login == "" || e.login == login) && e.password != "" {
			return e.password, true, nil
		}
	}
	for _, e := range entries {
		if e.machine == "" && (e.login == "" || e.login == login) && e.password != "" {
			return e.password, true, nil
		}
	}
	return "", false, nil
}
