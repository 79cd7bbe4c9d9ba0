package listing

import "github.com/ftpaudit/ftpaudit"

// Merge joins a directory's MLSD and LIST -a entries by exact
// name. Servers hide different things from each: proftpd leaves dangling
// and looping symlinks out of MLSD but shows them in LIST -a, and leaves
// some symlinks to directories out of LIST -a but shows them in MLSD.
// MLSD facts win; LIST fills what MLSD lacks (pure-ftpd sends no owner),
// and a link in either listing is a link (never descended). Entries only
// LIST shows are returned too, and their names are reported in onlyList.
func Merge(mlsd, list []ftpaudit.Entry) (merged []ftpaudit.Entry, onlyList []string) {
	idx := make(map[string]int, len(mlsd))
	merged = mlsd
	for i := range merged {
		idx[merged[i].Name] = i
	}
	for _, le := range list {
		i, ok := idx[le.Name]
		if !ok {
			onlyList = append(onlyList, le.Name)
			idx[le.Name] = len(merged)
			le.EnsureExtra().ListRaw, le.Raw = le.Raw, ""
			merged = append(merged, le)
			continue
		}
		me := &merged[i]
		me.EnsureExtra().ListRaw = le.Raw
		if le.Type == ftpaudit.TypeLink && me.Type != ftpaudit.TypeLink {
			me.Type = ftpaudit.TypeLink
		}
		if me.Target() == "" && le.Target() != "" {
			me.EnsureExtra().Target = le.Target()
		}
		if me.Mode == "" {
			me.Mode = le.Mode
		}
		if me.Owner == "" {
			me.Owner = le.Owner
		}
		if me.Group == "" {
			me.Group = le.Group
		}
		if me.Size < 0 {
			me.Size = le.Size
		}
		if me.Modified.IsZero() {
			me.Modified = le.Modified
		}
	}
	return merged, onlyList
}
