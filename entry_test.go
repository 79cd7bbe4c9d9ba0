package ftpaudit

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestEntryClone: a clone equals its entry and shares none of its
// strings' memory.
func TestEntryClone(t *testing.T) {
	raw := "-rw-r--r--    1 ftp      ftp          3 Jan 01  2020 a b"
	e := Entry{Path: "/pub/a b", Name: raw[len(raw)-3:], Mode: raw[:10], Owner: raw[15:18], Group: raw[24:27], Raw: raw, Size: 3, Type: TypeFile,
		Extra: &EntryExtra{Perm: "r", Unique: "u1", FactsRaw: "type=file;", ListRaw: raw, Target: "/x", Facts: map[string]string{"type": "file"}}}
	c := e.Clone()
	if !reflect.DeepEqual(c, e) {
		t.Fatalf("clone %+v\nwant %+v", c, e)
	}
	if c.Extra == e.Extra {
		t.Error("Extra shared")
	}
	c.Extra.Facts["type"] = "dir"
	if e.Extra.Facts["type"] != "file" {
		t.Error("Facts shared")
	}
	within := func(s, in string) bool {
		p, q := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(in)))
		return p >= q && p < q+uintptr(len(in))
	}
	for _, s := range []string{c.Path, c.Name, c.Mode, c.Owner, c.Group, c.Raw, c.Extra.ListRaw} {
		if within(s, raw) || within(s, e.Path) {
			t.Errorf("%q still points into the entry's strings", s)
		}
	}
	if z := (&Entry{Size: -1}).Clone(); !reflect.DeepEqual(z, Entry{Size: -1}) {
		t.Errorf("empty entry: %+v", z)
	}

	// CloneSize counts the struct, every string the clone copies, and
	// Extra with its facts.
	base := int(unsafe.Sizeof(Entry{}))
	if n := (&Entry{}).CloneSize(); n != base {
		t.Errorf("CloneSize of an empty entry %d, want %d", n, base)
	}
	text := len(e.Path) + len(e.Name) + len(e.Mode) + len(e.Owner) + len(e.Group) + len(e.Raw) +
		len(e.Extra.Perm) + len(e.Extra.Unique) + len(e.Extra.FactsRaw) + len(e.Extra.ListRaw) + len(e.Extra.Target)
	if n, least := e.CloneSize(), base+int(unsafe.Sizeof(EntryExtra{}))+text+len("type")+len("file"); n < least {
		t.Errorf("CloneSize %d, want at least %d", n, least)
	}
}
