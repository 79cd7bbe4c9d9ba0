package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

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
