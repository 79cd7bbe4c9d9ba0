package realserver

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// What "the inventory equals the archive" means, server by server: the
// inventory must hold exactly what the server shows an anonymous user
// (uid ftp) who lists every directory it shows, from the root.
//
//   - Most servers show a symlink as a symlink ("l" in LIST; pyftpdlib's
//     MLSD shows the target instead, but its LIST shows the link, and a link
//     in either listing is a link) and never list through it: View, which
//     reads the archive with lstat.
//   - Twisted's LIST shows every symlink as what it points to and lists a
//     directory only if it can stat every name in it (one dangling or
//     looping link makes the whole listing fail): ViewFollowing. A
//     directory reached through a symlink is a directory like any other
//     there, and its content is shown again below the link's name.
//
// FollowsSymlinks says which applies to a server.

// FollowsSymlinks reports whether the server called name shows symlinks as
// what they point to (ViewFollowing) rather than as symlinks (View).
func FollowsSymlinks(name string) bool { return name == "twisted" }

// ftpPerm returns what the user ftp may do with a file of the given
// attributes: the rwx bits (4, 2, 1) that apply to it.
func ftpPerm() (func(os.FileInfo) uint32, error) {
	u, err := user.Lookup("ftp")
	if err != nil {
		return nil, fmt.Errorf("user ftp: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return func(fi os.FileInfo) uint32 {
		st := fi.Sys().(*syscall.Stat_t)
		m := uint32(fi.Mode().Perm())
		switch {
		case uint64(st.Uid) == uid:
			return m >> 6 & 7
		case uint64(st.Gid) == gid:
			return m >> 3 & 7
		}
		return m & 7
	}, nil
}

// View walks the archive at root as the anonymous (ftp) user can see it
// over FTP: every name in every directory it may list, symlinks not
// followed. It returns path -> type ("dir", "file", "link", "other"),
// file sizes, and the directories it may not list, sorted.
func View(root string) (types map[string]string, sizes map[string]int64, unreadable []string, err error) {
	perm, err := ftpPerm()
	if err != nil {
		return nil, nil, nil, err
	}
	types, sizes = map[string]string{}, map[string]int64{}
	var walk func(rel string) error
	walk = func(rel string) error {
		ents, err := os.ReadDir(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		for _, de := range ents {
			p := rel + "/" + de.Name()
			fi, err := os.Lstat(filepath.Join(root, p))
			if err != nil {
				return err
			}
			switch {
			case fi.Mode()&os.ModeSymlink != 0:
				types[p] = "link"
			case fi.IsDir():
				types[p] = "dir"
				if perm(fi)&5 == 5 {
					if err := walk(p); err != nil {
						return err
					}
				} else {
					unreadable = append(unreadable, p)
				}
			case fi.Mode().IsRegular():
				types[p] = "file"
				sizes[p] = fi.Size()
			default:
				types[p] = "other"
			}
		}
		return nil
	}
	if err := walk(""); err != nil {
		return nil, nil, nil, err
	}
	slices.Sort(unreadable)
	return types, sizes, unreadable, nil
}

// ViewFollowing is View for a server that follows symlinks (Twisted): it
// walks the archive at root as the anonymous (ftp) user sees it there.
// Every name has the type and size of what it points to; a directory is
// listable if ftp may read and search it and every name in it can be
// followed (a dangling or looping symlink, or one into a directory ftp may
// not search, makes the whole directory unlistable: it is then unreadable
// and none of its names is shown); a directory reached through a symlink
// is walked like any other, below the link's name. A symlink that leads
// out of root or back into a directory of its own path (an endless tree)
// where the walk would follow it is an error: the expected view would not
// be the archive's.
func ViewFollowing(root string) (types map[string]string, sizes map[string]int64, unreadable []string, err error) {
	perm, err := ftpPerm()
	if err != nil {
		return nil, nil, nil, err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, nil, err
	}
	types, sizes = map[string]string{}, map[string]int64{}
	type shown struct {
		name string
		fi   os.FileInfo
	}
	// walk lists rel, whose real path is real; chain holds the real paths
	// of the directories the walk is in (rel's ancestors, and rel).
	var walk func(rel, real string, chain []string) error
	walk = func(rel, real string, chain []string) error {
		ents, err := os.ReadDir(filepath.Join(root, rel))
		if err != nil {
			return err
		}
		var list []shown
		for _, de := range ents {
			fi, err := os.Stat(filepath.Join(root, rel, de.Name()))
			if err != nil {
				// the server's listing of rel fails as a whole
				unreadable = append(unreadable, rel)
				return nil
			}
			list = append(list, shown{de.Name(), fi})
		}
		for _, e := range list {
			p := rel + "/" + e.name
			switch {
			case e.fi.IsDir():
				types[p] = "dir"
				if perm(e.fi)&5 != 5 {
					unreadable = append(unreadable, p)
					continue
				}
				sub, err := filepath.EvalSymlinks(filepath.Join(root, p))
				if err != nil {
					return err
				}
				if sub != realRoot && !strings.HasPrefix(sub, realRoot+"/") {
					return fmt.Errorf("%s leads out of the archive, to %s: the server would list it", p, sub)
				}
				if slices.Contains(chain, sub) {
					return fmt.Errorf("%s leads back to %s, a directory of its own path: the server shows an endless tree", p, sub)
				}
				if err := walk(p, sub, append(slices.Clip(chain), sub)); err != nil {
					return err
				}
			case e.fi.Mode().IsRegular():
				types[p] = "file"
				sizes[p] = e.fi.Size()
			default:
				types[p] = "other"
			}
		}
		return nil
	}
	if err := walk("", realRoot, []string{realRoot}); err != nil {
		return nil, nil, nil, err
	}
	slices.Sort(unreadable)
	return types, sizes, unreadable, nil
}
