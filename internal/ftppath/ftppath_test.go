package ftppath

import "testing"

func TestPlainPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/pub/gnu/emacs-29.1.tar.gz": true, "/a_b/c+d/x@y%z,w=v": true, "/a-b": true,
		"/-rf": false, "/a/-l": false, "/  ": false, "/ lead": false, "/star*name": false, "/[abc]": false,
		"/q?mark": false, "/café": false, "/bad\xffdir": false, "/~user": false, "/{a,b}": false, "/a\tb": false,
	} {
		if got := Plain(p); got != want {
			t.Errorf("plainPath(%q) = %v, want %v", p, got, want)
		}
	}
}
