// Package realserver is the plumbing of the tests that run against real FTP
// servers (vsftpd, proftpd, pure-ftpd, pyftpdlib, Twisted and GNU inetutils
// ftpd, started by testdata/realservers):
// which servers to test, read from the environment that
// testdata/realservers/env.sh sets, and what an anonymous user should see
// of an archive on disk.
//
// # Environment
//
//	FTPAUDIT_REAL_SERVERS    name=url=archive-dir,...      (Servers; plain ftp:// only)
//	FTPAUDIT_FTPS_SERVER     name=url=archive-dir=ca-file  (FTPS; an ftps:// URL)
//	FTPAUDIT_RECURSE_SERVER  name=url=archive-dir          (Recurse; vsftpd with ls_recurse_enable=YES)
//	FTPAUDIT_NOMLSD_SERVER   name=url=archive-dir          (NoMLSD; pyftpdlib without MLSD and MLST)
//	FTPAUDIT_REQUIRE_REAL=1  a missing server fails the test instead of skipping it (CI)
package realserver
