#!/usr/bin/env bash
# stop.sh — stops the PostgreSQL started by start.sh (its cluster in $FTPAUDIT_PG_DIR/data,
# by pg_ctl, which signals the postmaster named in that cluster's pid file only). Safe to run
# when nothing is running. Leaves the files; start.sh starts from nothing.
set -uo pipefail
DIR=${FTPAUDIT_PG_DIR:-/var/lib/ftpaudit-postgres}
[ -f "$DIR/data/postmaster.pid" ] || exit 0
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$BIN" ] || [ ! -x "$BIN/pg_ctl" ]; then
	echo "stop.sh: no pg_ctl to stop the cluster in $DIR/data" >&2
	exit 0
fi
runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
	runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
exit 0
