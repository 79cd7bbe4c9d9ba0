package scanner

import (
	"context"
	"fmt"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

// benchTree is an archive of 1,000 directories (a root of 100, each with
// 10 subdirectories), 50 files each; with unique, every entry carries an
// MLSD unique fact (the checks that rely on it run).
func benchTree(unique bool) *memTree {
	m := &memTree{dirs: map[string][]ftpaudit.Entry{}}
	n := 0
	ent := func(e ftpaudit.Entry) ftpaudit.Entry {
		if unique {
			n++
			e.Extra = &ftpaudit.EntryExtra{Unique: fmt.Sprintf("u%d", n)}
		}
		return e
	}
	files := func() []ftpaudit.Entry {
		var es []ftpaudit.Entry
		for i := range 50 {
			es = append(es, ent(f(fmt.Sprintf("file%02d.tar.gz", i))))
		}
		return es
	}
	for i := range 100 {
		a := fmt.Sprintf("d%03d", i)
		m.dirs["/"] = append(m.dirs["/"], ent(d(a)))
		m.dirs["/"+a] = files()
		for j := range 10 {
			b := fmt.Sprintf("s%02d", j)
			m.dirs["/"+a] = append(m.dirs["/"+a], ent(d(b)))
			m.dirs["/"+a+"/"+b] = files()
		}
	}
	return m
}

// BenchmarkWalk measures the walk itself (no network): listing, filing,
// and the checks completeness rests on (names listed twice, unique facts,
// listings of only themselves).
func BenchmarkWalk(b *testing.B) {
	for _, unique := range []bool{false, true} {
		m := benchTree(unique)
		b.Run(fmt.Sprintf("unique=%v", unique), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				r := Walk(context.Background(), ftpaudit.Target{URL: "ftp://mem", Start: "/"}, m.connector(), WalkOptions{Connections: 4})
				if !r.Complete || r.Stats.Listed != 1101 {
					b.Fatalf("complete=%v listed=%d %q", r.Complete, r.Stats.Listed, r.Incomplete)
				}
			}
		})
	}
}
