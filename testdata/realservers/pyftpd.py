# pyftpd.py — the pyftpdlib test server of the ftpaudit real-server tests (start.sh runs it as
# the unprivileged user ftp, with /usr/bin/python3 and Debian's python3-pyftpdlib 1.5.7).
#
#   pyftpd.py ROOT PORT PASV_MIN PASV_MAX [--no-mlsd] [--default-limits]
#
# Serves ROOT (a copy of the mkarchive.sh archive) to anonymous users only, on 127.0.0.1:PORT,
# passive ports PASV_MIN..PASV_MAX. pyftpdlib's rights come from its authorizer, so they
# mirror the archive's intent (the same areas proftpd opens):
#   everywhere  "elr"   CWD, LIST/MLSD/STAT/SIZE, RETR: read-only
#   /incoming   "emwr"  the drop box: CWD, MKD, STOR, RETR, but no LIST (550 "Not enough
#                       privileges"); not recursive, so a directory made in it is read-only
#   /writable   "elrmw" listable and writable (no DELE, RNFR/RNTO, APPE), recursively
# /latent (777 on disk) stays read-only: like proftpd's, it looks writable and is not.
# Running as ftp, Unix modes apply as well: the 000/111/700 directories cannot be listed and
# a root-owned directory below /writable cannot be written.
#
# Names are bytes on the wire: unicode_errors="surrogateescape" sends the archive's invalid
# UTF-8 names unchanged and takes them back the same way (pyftpdlib's default, "replace",
# shows them with U+FFFD and then cannot find them), and replies that name a path (CWD's
# 250, PWD's 257) are encoded the same way (stock pyftpdlib encodes replies strictly: it
# changes into such a directory, then answers "501 can't decode path", and so does every
# PWD after).
#
# --no-mlsd drops MLSD and MLST from the command table (and so from FEAT): the LIST-only
# variant (pyftpdlib-nomlsd). --default-limits keeps pyftpdlib's connection limits (512 in
# all, none per address) instead of 64 and 48 (start.sh passes it under
# FTPAUDIT_DEFAULT_LIMITS=1).
import logging
import os
import sys
import warnings

from pyftpdlib import handlers
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    flags = [a for a in sys.argv[1:] if a.startswith("--")]
    if len(args) != 4 or any(f not in ("--no-mlsd", "--default-limits") for f in flags):
        sys.exit("usage: pyftpd.py ROOT PORT PASV_MIN PASV_MAX [--no-mlsd] [--default-limits]")
    root, port, pmin, pmax = args[0], int(args[1]), int(args[2]), int(args[3])
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")

    # (that is the point: "write permissions assigned to anonymous user")
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="pyftpdlib")
    auth = DummyAuthorizer()
    auth.add_anonymous(root, perm="elr")
    auth.override_perm("anonymous", os.path.join(root, "incoming"), "emwr", recursive=False)
    auth.override_perm("anonymous", os.path.join(root, "writable"), "elrmw", recursive=True)

    class Handler(FTPHandler):
        def push(self, s):
            handlers.asynchat.async_chat.push(self, s.encode("utf8", self.unicode_errors))

    Handler.authorizer = auth
    Handler.banner = "ftpaudit pyftpdlib test server"
    Handler.passive_ports = range(pmin, pmax + 1)
    Handler.unicode_errors = "surrogateescape"
    if "--no-mlsd" in flags:
        Handler.proto_cmds = {k: v for k, v in FTPHandler.proto_cmds.items() if k not in ("MLSD", "MLST")}
        Handler.banner = "ftpaudit pyftpdlib (no MLSD) test server"

    server = FTPServer(("127.0.0.1", port), Handler)
    if "--default-limits" not in flags:
        # at least 32 concurrent anonymous connections from 127.0.0.1 (docs/listing.md)
        server.max_cons = 64
        server.max_cons_per_ip = 48
    server.serve_forever()


if __name__ == "__main__":
    main()
