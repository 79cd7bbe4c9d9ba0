package entrystore

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

// spilledSource makes a source of random listings, every one spilled.
func spilledSource(t *testing.T, seed uint64) (*source, []ftpaudit.Entry) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var ins []input
	for len(ins) < 8 {
		ins = randListings(rng, false)
	}
	s := New(Options{Dir: t.TempDir(), SpillAfter: 1})
	for _, in := range ins {
		if err := s.Add(in.seq, in.dir, slices.Clone(in.es), in.sorted); err != nil {
			t.Fatal(err)
		}
	}
	src := s.Seal().(*source)
	t.Cleanup(func() { src.Close() })
	return src, reference(ins)
}

func TestCorruptTruncated(t *testing.T) {
	src, ref := spilledSource(t, 1)
	st, err := src.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if err := src.f.Truncate(st.Size() / 2); err != nil {
		t.Fatal(err)
	}
	if got := collect(src); len(got) >= len(ref) || src.Err() == nil {
		t.Fatalf("truncated: All yields %d of %d entries, Err %v", len(got), len(ref), src.Err())
	}
	find := src.Finder()
	for i := range ref {
		find(ref[i].Path) // (no panic)
	}
}

func TestCorruptOverwritten(t *testing.T) {
	for seed := range uint64(20) {
		src, ref := spilledSource(t, seed)
		st, err := src.f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(seed, 9))
		junk := make([]byte, 1+rng.IntN(8))
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		off := rng.Int64N(st.Size())
		old := make([]byte, len(junk))
		src.f.ReadAt(old, off)
		if slices.Equal(old, junk[:min(len(junk), int(st.Size()-off))]) {
			continue
		}
		if _, err := src.f.WriteAt(junk, off); err != nil {
			t.Fatal(err)
		}
		got := collect(src)
		if src.Err() == nil || !errors.Is(src.Err(), errCorrupt) && off+int64(len(junk)) <= st.Size() {
			t.Fatalf("seed %d: %d junk bytes at %d of %d: All yields %d of %d entries, Err %v", seed, len(junk), off, st.Size(), len(got), len(ref), src.Err())
		}
	}
}

func TestClosed(t *testing.T) {
	src, _ := spilledSource(t, 2)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if got := collect(src); len(got) != 0 || src.Err() == nil {
		t.Fatalf("after Close: %d entries, Err %v", len(got), src.Err())
	}
}

// encodedBlocks returns the bodies (no checksum) of a random listing's
// blocks, their entry counts, and the decoder for them.
func encodedBlocks(seed uint64) (bodies [][]byte, ns []int, dir string, d *decoder) {
	rng := rand.New(rand.NewPCG(seed, 11))
	var in input
	for len(in.es) < 5 {
		in = randListings(rng, false)[0]
	}
	sortByPath(in.es)
	enc := &encoder{locs: &locTable{}}
	enc.reset()
	for i := range in.es {
		enc.add(in.dir, &in.es[i])
	}
	enc.finish()
	for _, b := range enc.blocks {
		bodies = append(bodies, enc.out[b.off:b.off+b.size-4])
		ns = append(ns, b.n)
	}
	return bodies, ns, in.dir, &decoder{locs: enc.locs.snapshot()}
}

// TestDecodeGarbage decodes blocks with bytes changed past the
// checksum: any result but a panic will do; a cut block is an error.
func TestDecodeGarbage(t *testing.T) {
	for seed := range uint64(50) {
		bodies, ns, dir, d := encodedBlocks(seed)
		rng := rand.New(rand.NewPCG(seed, 13))
		for k, body := range bodies {
			if _, err := d.body(body, dir, ns[k]); err != nil {
				t.Fatalf("seed %d: intact block: %v", seed, err)
			}
			for cut := range len(body) {
				if _, err := d.body(body[:cut], dir, ns[k]); err == nil {
					t.Fatalf("seed %d: block cut at %d of %d decodes", seed, cut, len(body))
				}
			}
			for range 500 {
				b := slices.Clone(body)
				for range 1 + rng.IntN(4) {
					b[rng.IntN(len(b))] = byte(rng.Uint32())
				}
				d.body(b, dir, ns[k])
			}
		}
	}
}

func FuzzDecodeBody(f *testing.F) {
	for seed := range uint64(5) {
		bodies, ns, dir, _ := encodedBlocks(seed)
		for k := range bodies {
			f.Add(bodies[k], dir, ns[k])
		}
	}
	_, _, _, d := encodedBlocks(0)
	f.Fuzz(func(t *testing.T, body []byte, dir string, n int) {
		d.body(body, dir, n)
	})
}
