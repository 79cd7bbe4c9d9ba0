package realserver

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// View walks the archive at root as the anonymous (ftp) user can see it
// over FTP: every name in every directory it may list, symlinks not
// followed. It returns path -> type ("dir", "file", "link", "other"),
// file sizes, and the directories it may not list, sorted.
func View(root string) (types map[string]string, sizes map[string]int64, unreadable []string, err error) {
	u, err := user.Lookup("ftp")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("user ftp: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	perm := func(fi os.FileInfo) uint32 {
		st := fi.Sys().(*syscall.Stat_t)
		m := uint32(fi.Mode().Perm())
		switch {
		case uint64(st.Uid) == uid:
			return m >> 6 & 7
		case uint64(st.Gid) == gid:
			return m >> 3 & 7
		}
		return m & 7
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
