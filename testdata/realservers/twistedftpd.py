# twistedftpd.py — the Twisted test server of the ftpaudit real-server tests (start.sh runs it
# as the unprivileged user ftp, with /usr/bin/python3 and Debian's python3-twisted 22.4).
#
#   twistedftpd.py ROOT PORT PASV_MIN PASV_MAX [--default-limits]
#
# Serves ROOT (a copy of the mkarchive.sh archive) to anonymous users only, on 127.0.0.1:PORT,
# data connections on 127.0.0.1, passive ports PASV_MIN..PASV_MAX, at most 64 connections
# (--default-limits: Twisted's default, no limit).
#
# Twisted's stock anonymous shell refuses every write; here anonymous users get its full
# FTPShell, so that Unix modes decide, as for the ftp user that runs the server: /incoming
# (1733) and /writable, /latent (777) take uploads and new directories, and the 000/111/700
# directories cannot be listed. FTPShell also lets anonymous users delete and rename where the
# modes allow it (the other servers refuse that).
#
# Names are bytes on the wire. Twisted reads commands as Latin-1 and sends str names as
# UTF-8; its stock shell over a str root takes "café" in a command for "cafÃ©" and cannot
# send a name that is not valid UTF-8. The shell here works on a bytes root and turns each
# path segment back into the bytes the client sent (Latin-1 is one byte per character), so
# every name of the archive can be listed and named. Nothing else is changed: no MLSD, STAT,
# EPSV or "LIST -R"; LIST ignores only the exact arguments -a, -l, -la, -al; symlinks are
# followed (a dangling or looping one makes the whole listing of its directory fail).
import sys

from twisted.cred.checkers import AllowAnonymousAccess
from twisted.cred.portal import Portal
from twisted.internet import reactor
from twisted.protocols import ftp
from twisted.python import filepath


class ByteShell(ftp.FTPShell):
    def _path(self, path):
        return self.filesystemRoot.descendant(
            [s.encode("latin-1") if isinstance(s, str) else s for s in path]
        )


class Realm(ftp.FTPRealm):
    def __init__(self, root):
        ftp.FTPRealm.__init__(self, root)
        self.anonymousRoot = filepath.FilePath(root.encode())

    def requestAvatar(self, avatarId, mind, *interfaces):
        for iface in interfaces:
            if iface is ftp.IFTPShell:
                avatar = ByteShell(self.anonymousRoot)
                return ftp.IFTPShell, avatar, getattr(avatar, "logout", lambda: None)
        raise NotImplementedError("Only IFTPShell interface is supported by this realm")


class Protocol(ftp.FTP):
    # passive data ports on loopback only (the stock one listens on every address)
    listenFactory = staticmethod(lambda port, factory: reactor.listenTCP(port, factory, interface="127.0.0.1"))


def main():
    args = [a for a in sys.argv[1:] if a != "--default-limits"]
    if len(args) != 4 or any(a.startswith("--") for a in args):
        sys.exit("usage: twistedftpd.py ROOT PORT PASV_MIN PASV_MAX [--default-limits]")
    root, port, pmin, pmax = args[0], int(args[1]), int(args[2]), int(args[3])
    factory = ftp.FTPFactory(Portal(Realm(root), [AllowAnonymousAccess()]))
    factory.protocol = Protocol
    factory.welcomeMessage = "ftpaudit Twisted test server"
    factory.passivePortRange = range(pmin, pmax + 1)
    if "--default-limits" not in sys.argv:
        # at least 32 concurrent anonymous connections (docs/listing.md)
        factory.connectionLimit = 64
    reactor.listenTCP(port, factory, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
