package scanner

import (
	"testing"

	"github.com/ftpaudit/ftpaudit"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ftpaudit.Target
		err  bool
	}{
		{in: "ftp://127.0.0.1:2121", want: ftpaudit.Target{URL: "ftp://127.0.0.1:2121", Host: "127.0.0.1", Port: "2121", User: "anonymous", Start: "/", TLS: ftpaudit.TLSNone}},
		{in: "ftp://h/pub/", want: ftpaudit.Target{URL: "ftp://h:21", Host: "h", Port: "21", User: "anonymous", Start: "/pub", TLS: ftpaudit.TLSNone}},
		{in: "ftps://bob@[::1]:990/x", want: ftpaudit.Target{URL: "ftps://bob@[::1]:990", Host: "::1", Port: "990", User: "bob", Start: "/x", TLS: ftpaudit.TLSExplicit}},
		{in: "ftp://bob:secret@h/", err: true},
		{in: "http://h/", err: true},
		{in: "h:21", err: true},
		{in: "ftp:///x", err: true},
		{in: "ftp://h/?q", err: true},
	} {
		got, err := ftpaudit.ParseTarget(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("%s: err %v", tc.in, err)
			continue
		}
		if !tc.err && got != tc.want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}
