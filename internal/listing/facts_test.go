package listing

// Facts kept in the line (EntryExtra.FactsRaw): what Facts, Fact and
// HasFacts give must be what the parser read, fact by fact.

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestFactsRawAgreesWithParser(t *testing.T) {
	keys := []string{"type", "TYPE", "Size", "modify", "perm", "unique", "UNIX.mode", "unix.owner", "x.custom", "X.Custom"}
	vals := []string{"file", "dir", "0", "20210304050607", "elr", "0o755", "a=b", "", "ÿ", "cdir"}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 5000; i++ {
		n := r.IntN(6)
		var b strings.Builder
		want := map[string]string{}
		for j := 0; j < n; j++ {
			k, v := keys[r.IntN(len(keys))], vals[r.IntN(len(vals))]
			if strings.EqualFold(k, "type") {
				v = []string{"file", "dir", "OS.unix=slink:/x"}[r.IntN(3)]
			}
			if strings.EqualFold(k, "size") || strings.EqualFold(k, "modify") || strings.EqualFold(k, "unix.mode") {
				continue // values those facts must parse; not what is tested here
			}
			b.WriteString(k + "=" + v + ";")
			want[strings.ToLower(k)] = v
		}
		line := b.String() + " name"
		e, skip, err := ParseMLSDLine(line)
		if err != nil || skip {
			continue
		}
		got := e.Facts()
		if len(got) != len(want) {
			t.Fatalf("%q: facts %v, want %v", line, got, want)
		}
		for k, v := range want {
			if got[k] != v || e.Fact(k) != v {
				t.Fatalf("%q: fact %s = %q / %q, want %q", line, k, got[k], e.Fact(k), v)
			}
		}
		if !e.HasFacts() || e.Fact("no.such") != "" {
			t.Fatalf("%q: HasFacts %v, Fact(no.such) %q", line, e.HasFacts(), e.Fact("no.such"))
		}
	}
	// A line without facts is still an MLSD entry, with an empty map.
	e, _, err := ParseMLSDLine(" name")
	if err != nil || !e.HasFacts() || e.Facts() == nil || len(e.Facts()) != 0 {
		t.Errorf("no facts: %+v %v", e, err)
	}
}
