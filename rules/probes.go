package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/ftpaudit/ftpaudit"
)

// What the scan did besides listing: the active probe's canaries
// (readable-upload, probe-residue) and the files it fetched to read
// (passwd-hashes).

// canaryEntry reports a listed entry named like a probe canary: left by
// this run or an earlier one (probe-residue).
func (j *judge) canaryEntry(e *ftpaudit.Entry) {
	t, ok := ftpaudit.CanaryTime(e.Name)
	if !ok {
		return
	}
	j.add(e.Path, ftpaudit.RuleProbeResidue, ftpaudit.SevHigh, []string{fmt.Sprintf("name matches the probe canary pattern %s<time>-<hex>: left by a probe at %s", ftpaudit.CanaryPrefix, t.Format(time.RFC3339))}, "")
}

// probeFindings reports what the probe's canaries showed: an uploaded
// canary that could be downloaded again (readable-upload) and canaries
// the probe could not remove (probe-residue).
func (j *judge) probeFindings() {
	for i := range j.h.Probes {
		pr := &j.h.Probes[i]
		if pr.Readable {
			ev := []string{fmt.Sprintf("probe: the canary uploaded to %s could be downloaded again", ftpaudit.EvidenceName(pr.File.Path))}
			if pr.File.Accepted {
				ev = append(ev, "probe: STOR accepted: "+ftpaudit.EvidenceReply(pr.File.Reply))
			}
			if _, unreadable := j.unreadable[pr.Dir]; unreadable {
				ev = append(ev, "the directory cannot be listed, but whoever knows a name can download it")
			}
			j.add(pr.Dir, ftpaudit.RuleReadableUpload, ftpaudit.SevHigh, ev, "")
		}
		for _, p := range pr.Residue() {
			if p == "" {
				continue
			}
			var ev []string
			for _, st := range []struct {
				cmd string
				s   ftpaudit.ProbeStep
			}{{"STOR", pr.File}, {"MKD", pr.Mkdir}} {
				if st.s.Path != p {
					continue
				}
				why := ftpaudit.EvidenceReply(st.s.RemoveReply)
				if why == "" {
					why = "no reply"
				}
				ev = append(ev, fmt.Sprintf("probe: %s accepted: %s", st.cmd, ftpaudit.EvidenceReply(st.s.Reply)),
					"probe: removal not confirmed: "+why)
			}
			if len(ev) == 0 {
				ev = []string{"probe: canary left behind"}
			}
			j.add(p, ftpaudit.RuleProbeResidue, ftpaudit.SevHigh, ev, "")
		}
	}
}

// looksLikeHash reports whether a passwd password field holds a crypt(3)
// hash (a locked one, "!" + hash, too) rather than a placeholder.
func looksLikeHash(s string) bool {
	s = strings.TrimLeft(s, "!*")
	if s == "" {
		return false
	}
	if s[0] == '$' {
		return strings.Count(s, "$") >= 2 && len(s) >= 8
	}
	crypt := func(x string) bool {
		for i := 0; i < len(x); i++ {
			c := x[i]
			if !(c == '.' || c == '/' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
				return false
			}
		}
		return true
	}
	switch {
	case len(s) == 13 || len(s) == 24: // DES, bigcrypt
		return crypt(s)
	case len(s) == 20 && s[0] == '_': // BSDi extended DES
		return crypt(s[1:])
	}
	return false
}

// passwdHashes reports a fetched etc/passwd that holds password hashes
// (passwd-hashes), naming the accounts.
func (j *judge) passwdHashes() {
	for _, f := range j.h.Fetched {
		if f.Err != "" || !strings.HasSuffix(f.Path, "etc/passwd") {
			continue
		}
		var users []string
		lines := 0
		for _, line := range strings.Split(string(f.Data), "\n") {
			line = strings.TrimSuffix(line, "\r")
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			lines++
			fields := strings.SplitN(line, ":", 3)
			if len(fields) < 2 || !looksLikeHash(fields[1]) {
				continue
			}
			users = append(users, ftpaudit.EvidenceName(fields[0]))
		}
		if len(users) == 0 {
			continue
		}
		fd := j.finding(f.Path, ftpaudit.RulePasswdHashes, ftpaudit.SevCritical, []string{
			fmt.Sprintf("password hashes for %d of %d accounts: %s", len(users), lines, strings.Join(users, ", ")),
			fmt.Sprintf("downloaded by the scan (%d bytes)", len(f.Data)),
		})
		if j.entry(f.Path) == nil {
			fd.Size = int64(len(f.Data)) // fetched without being listed
		}
		j.c.add(fd)
	}
}
