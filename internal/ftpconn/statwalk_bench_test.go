package ftpconn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ftpaudit/ftpaudit"
	"github.com/ftpaudit/ftpaudit/internal/ftptest/faultftp"
)

// statWalkTree is a root holding 20 directories of 25 directories each
// (520 directories). The root and the first level hold rootFiles and
// midFiles files besides; each leaf holds leafFiles(i) files.
func statWalkTree(rootFiles, midFiles int, leafFiles func(i int) int) (faultftp.Tree, []string) {
	m := map[string][]faultftp.Entry{"/": faultftp.Many("r", rootFiles)}
	dirs := []string{"/"}
	leaf := 0
	for i := range 20 {
		mid := fmt.Sprintf("/d%02d", i)
		m["/"] = append(m["/"], faultftp.Dir(mid[1:]))
		m[mid] = faultftp.Many("m", midFiles)
		dirs = append(dirs, mid)
		for j := range 25 {
			name := fmt.Sprintf("l%02d", j)
			m[mid] = append(m[mid], faultftp.Dir(name))
			m[mid+"/"+name] = faultftp.Many("f", leafFiles(leaf))
			dirs = append(dirs, mid+"/"+name)
			leaf++
		}
	}
	return faultftp.Map(m), dirs
}

// BenchmarkStatWalk lists a tree of 521 directories on one session of a
// LIST-only server that answers STAT (faultftp), depth first, as the
// walker would on one connection. It measures what proving STAT listings
// against the data connection costs: data-listings/walk counts the LIST
// transfers (the first directory's check and every later one),
// stat/walk the STAT exchanges. "skewed" has the shape of the benchmark
// archive (testdata/bench/mktree.sh: most directories hold a handful of
// files, a few hold hundreds); "uniform" is the worst case, where every
// directory lists exactly as many lines (27) as the largest one proven,
// so that every listing is checked.
func BenchmarkStatWalk(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	skew := make([]int, 500)
	for i := range skew {
		// Pareto-like: about 16 on average, a few in the hundreds.
		skew[i] = int(3/(1-rng.Float64()*0.995)) + rng.IntN(4)
	}
	for _, c := range []struct {
		name                string
		rootFiles, midFiles int
		leaf                func(int) int
	}{
		{"skewed", 12, 3, func(i int) int { return skew[i] }},
		{"uniform", 5, 0, func(int) int { return 25 }},
	} {
		b.Run(c.name, func(b *testing.B) {
			tree, dirs := statWalkTree(c.rootFiles, c.midFiles, c.leaf)
			srv, err := faultftp.Start(faultftp.Options{Tree: tree, Stat: true})
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			t, err := ftpaudit.ParseTarget(srv.URL("/"))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			walks := 0
			list0, stat0 := srv.Count("LIST"), srv.Count("STAT")
			for b.Loop() {
				walks++
				d := NewDialer(t, DialOptions{})
				s, _, err := d.Connect(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for _, dir := range dirs {
					l, err := s.List(ctx, dir)
					if err != nil {
						b.Fatal(err)
					}
					if len(l.Entries) < 1 {
						b.Fatalf("%s: %d entries", dir, len(l.Entries))
					}
				}
				_ = s.Close()
				if r := d.StatReport(); r == nil || !r.Used {
					b.Fatalf("STAT not used: %+v", r)
				}
			}
			b.ReportMetric(float64(srv.Count("LIST")-list0)/float64(walks), "data-listings/walk")
			b.ReportMetric(float64(srv.Count("STAT")-stat0)/float64(walks), "stat/walk")
		})
	}
}
