package realserver

import (
	"fmt"
	"reflect"
	"testing"
)

// fakeTB records how a gate ended the test: Fatal and Skip stop the gate
// (by panicking, as runtime.Goexit would stop a real test).
type fakeTB struct {
	testing.TB
	failed, skipped string
}

type stopped struct{}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatal(args ...any) {
	f.failed = fmt.Sprint(args...)
	panic(stopped{})
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	panic(stopped{})
}

// gate runs fn against a fakeTB and reports how it ended.
func gate(t *testing.T, fn func(tb testing.TB)) (failed, skipped string) {
	t.Helper()
	f := &fakeTB{TB: t}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(stopped); !ok {
					panic(r)
				}
			}
		}()
		fn(f)
	}()
	return f.failed, f.skipped
}

const (
	three    = "vsftpd=ftp://127.0.0.1:2121=/a/vsftpd,proftpd=ftp://127.0.0.1:2122=/a/proftpd,pureftpd=ftp://127.0.0.1:2123=/a/pure=ftpd"
	six      = three + ",pyftpdlib=ftp://127.0.0.1:2126=/a/py,twisted=ftp://127.0.0.1:2127=/a/tw,inetutils=ftp://127.0.0.1:2128=/a/inet"
	ftpsSpec = "vsftpd-tls=ftps://127.0.0.1:2124=/a/tls=/a/tls/ca.pem"
)

func TestServers(t *testing.T) {
	cases := []struct {
		spec, require string
		want          []Server
		fail, skip    bool
	}{
		{spec: "", skip: true},
		{spec: "", require: "1", fail: true},
		{spec: "", require: "yes", skip: true}, // only "1" requires
		{spec: "vsftpd=ftp://h:1=/d", want: []Server{{Name: "vsftpd", URL: "ftp://h:1", Dir: "/d"}}},
		{spec: "vsftpd=ftp://h:1=/d", require: "1", fail: true}, // CI needs all six
		{spec: "vsftpd=ftp://h:1", fail: true},
		{spec: three, want: []Server{
			{Name: "vsftpd", URL: "ftp://127.0.0.1:2121", Dir: "/a/vsftpd"},
			{Name: "proftpd", URL: "ftp://127.0.0.1:2122", Dir: "/a/proftpd"},
			{Name: "pureftpd", URL: "ftp://127.0.0.1:2123", Dir: "/a/pure=ftpd"},
		}},
		{spec: three, require: "1", fail: true},                                               // the first three only
		{spec: six + ",pyftpdlib-nomlsd=ftp://127.0.0.1:2129=/a/n", require: "1", fail: true}, // an extra is no CI server
		{spec: six, require: "1", want: []Server{
			{Name: "vsftpd", URL: "ftp://127.0.0.1:2121", Dir: "/a/vsftpd"},
			{Name: "proftpd", URL: "ftp://127.0.0.1:2122", Dir: "/a/proftpd"},
			{Name: "pureftpd", URL: "ftp://127.0.0.1:2123", Dir: "/a/pure=ftpd"},
			{Name: "pyftpdlib", URL: "ftp://127.0.0.1:2126", Dir: "/a/py"},
			{Name: "twisted", URL: "ftp://127.0.0.1:2127", Dir: "/a/tw"},
			{Name: "inetutils", URL: "ftp://127.0.0.1:2128", Dir: "/a/inet"},
		}},
	}
	for _, c := range cases {
		t.Setenv(envServers, c.spec)
		t.Setenv(envRequire, c.require)
		var got []Server
		failed, skipped := gate(t, func(tb testing.TB) { got = Servers(tb) })
		if (failed != "") != c.fail || (skipped != "") != c.skip || !c.fail && !c.skip && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q require %q: got %+v, failed %q, skipped %q", c.spec, c.require, got, failed, skipped)
		}
	}
}

func TestFTPS(t *testing.T) {
	cases := []struct {
		spec, require string
		want          Server
		fail, skip    bool
	}{
		{spec: "", skip: true},
		{spec: "", require: "1", fail: true},
		{spec: ftpsSpec, want: Server{Name: "vsftpd-tls", URL: "ftps://127.0.0.1:2124", Dir: "/a/tls", CA: "/a/tls/ca.pem"}},
		{spec: "vsftpd-tls=ftp://127.0.0.1:2124=/a/tls=/a/tls/ca.pem", fail: true},
		{spec: "vsftpd-tls=ftps://127.0.0.1:2124=/a/tls", fail: true},
	}
	for _, c := range cases {
		t.Setenv(envFTPS, c.spec)
		t.Setenv(envRequire, c.require)
		var got Server
		failed, skipped := gate(t, func(tb testing.TB) { got = FTPS(tb) })
		if (failed != "") != c.fail || (skipped != "") != c.skip || got != c.want {
			t.Errorf("%q require %q: got %+v, failed %q, skipped %q", c.spec, c.require, got, failed, skipped)
		}
	}
}

func TestRecurse(t *testing.T) {
	cases := []struct {
		spec, require string
		want          Server
		ok, fail      bool
	}{
		{spec: ""}, // an extra: neither skipped nor failed
		{spec: "", require: "1", fail: true},
		{spec: "vsftpd-r=ftp://127.0.0.1:2125=/a/r", ok: true, want: Server{Name: "vsftpd-r", URL: "ftp://127.0.0.1:2125", Dir: "/a/r"}},
		{spec: "vsftpd-r=ftp://127.0.0.1:2125", fail: true},
	}
	for _, c := range cases {
		t.Setenv(envRecurse, c.spec)
		t.Setenv(envRequire, c.require)
		var got Server
		var ok bool
		failed, skipped := gate(t, func(tb testing.TB) { got, ok = Recurse(tb) })
		if (failed != "") != c.fail || skipped != "" || ok != c.ok || got != c.want {
			t.Errorf("%q require %q: got %+v %v, failed %q, skipped %q", c.spec, c.require, got, ok, failed, skipped)
		}
	}
}

func TestNoMLSD(t *testing.T) {
	cases := []struct {
		spec, require string
		want          Server
		ok, fail      bool
	}{
		{spec: ""}, // an extra: neither skipped nor failed
		{spec: "", require: "1", fail: true},
		{spec: "pyftpdlib-nomlsd=ftp://127.0.0.1:2129=/a/n", ok: true, want: Server{Name: "pyftpdlib-nomlsd", URL: "ftp://127.0.0.1:2129", Dir: "/a/n"}},
		{spec: "pyftpdlib-nomlsd=ftp://127.0.0.1:2129", fail: true},
	}
	for _, c := range cases {
		t.Setenv(envNoMLSD, c.spec)
		t.Setenv(envRequire, c.require)
		var got Server
		var ok bool
		failed, skipped := gate(t, func(tb testing.TB) { got, ok = NoMLSD(tb) })
		if (failed != "") != c.fail || skipped != "" || ok != c.ok || got != c.want {
			t.Errorf("%q require %q: got %+v %v, failed %q, skipped %q", c.spec, c.require, got, ok, failed, skipped)
		}
	}
}
