package rules

import (
	"fmt"
	"strings"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftppath"
)

// symlinkEscape reports a symbolic link whose target leaves the archive
// (symlink-escape): medium for an absolute target, which stays inside
// only on a server that chroots anonymous users; high for a relative one
// that climbs above the archive root with "..", counted from the link's
// own directory.
func (j *judge) symlinkEscape(e *ftpaudit.Entry) {
	t := e.Target()
	if e.Type != ftpaudit.TypeLink || t == "" {
		return
	}
	if strings.HasPrefix(t, "/") {
		j.add(e.Path, ftpaudit.RuleSymlinkEscape, ftpaudit.SevMedium, []string{fmt.Sprintf("target %s is absolute: it resolves outside the archive unless the server chroots anonymous users", ftpaudit.EvidenceName(t))}, "")
		return
	}
	dir, _ := ftppath.Split(e.Path)
	depth := 0
	if dir != "/" {
		depth = strings.Count(dir, "/")
	}
	low := depth
	for _, el := range strings.Split(t, "/") {
		switch el {
		case "", ".":
		case "..":
			depth--
			low = min(low, depth)
		default:
			depth++
		}
	}
	if low < 0 {
		j.add(e.Path, ftpaudit.RuleSymlinkEscape, ftpaudit.SevHigh, []string{fmt.Sprintf("target %s, resolved from %s, climbs %s above the archive root", ftpaudit.EvidenceName(t), ftpaudit.EvidenceName(dir), plural(-low, "level", "levels"))}, "")
	}
}
