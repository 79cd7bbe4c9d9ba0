#!/usr/bin/env bash
# start.sh — starts a throwaway PostgreSQL for the history tests on PostgreSQL (docs/history.md,
# "PostgreSQL"; docs/testing.md). Installs Debian's postgresql when no server is installed (and
# stops the system cluster that installing it starts), makes a fresh cluster in
# $FTPAUDIT_PG_DIR/data, run by the user postgres, listening on 127.0.0.1 only on a free port,
# with password authentication (scram-sha-256) over TCP; creates the role ftpaudit, with a random
# password, and the database ftpaudit_test it owns (the tests make a schema of their own in it
# for each test); and writes $FTPAUDIT_PG_DIR/env.sh, to source before go test:
#   export FTPAUDIT_TEST_POSTGRES='postgres://ftpaudit@127.0.0.1:PORT/ftpaudit_test?sslmode=disable'
#   export PGPASSWORD='...'
# (the password comes from the environment, never from the URL). Must run as root. Safe to run
# twice: stops the old cluster first (stop.sh) and starts from nothing.
#
# Environment (optional):
#   FTPAUDIT_PG_DIR   cluster, socket, log and env.sh (/var/lib/ftpaudit-postgres)
#   FTPAUDIT_PG_PORT  the port (default: the first free one from 55432)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${FTPAUDIT_PG_DIR:-/var/lib/ftpaudit-postgres}

if [ "$(id -u)" != 0 ]; then
	echo "start.sh: must run as root" >&2
	exit 1
fi

"$HERE/stop.sh"

# bindir: the newest installed server's binaries.
bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
	fi
}

if [ -z "$(bindir)" ]; then
	apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends postgresql >/dev/null
	# Installing it may start the system's cluster on 5432: stop that one, we run our own.
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now postgresql >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/postgresql ]; then
		/etc/init.d/postgresql stop >/dev/null 2>&1 || true
	fi
fi
BIN=$(bindir)
if [ -z "$BIN" ]; then
	echo "start.sh: no PostgreSQL server under /usr/lib/postgresql after installing" >&2
	exit 1
fi

# A free port: nothing answers on it.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${FTPAUDIT_PG_PORT:-}
if [ -z "$PORT" ]; then
	for p in $(seq 55432 55532); do
		if port_free "$p"; then
			PORT=$p
			break
		fi
	done
fi
if [ -z "$PORT" ] || ! port_free "$PORT"; then
	echo "start.sh: no free port for PostgreSQL" >&2
	exit 1
fi

rm -rf "$DIR/data" "$DIR/run"
install -d -m 755 "$DIR"
install -d -o postgres -g postgres -m 700 "$DIR/data"
install -d -o postgres -g postgres -m 755 "$DIR/run"
install -o postgres -g postgres -m 600 /dev/null "$DIR/log"

as_postgres() { runuser -u postgres -- "$@"; }

as_postgres "$BIN/initdb" -D "$DIR/data" --auth-local=peer --auth-host=scram-sha-256 \
	--encoding=UTF8 --no-locale -U postgres >>"$DIR/log" 2>&1 || {
	cat "$DIR/log" >&2
	exit 1
}
as_postgres "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 60 \
	-o "-p $PORT -k $DIR/run -c listen_addresses=127.0.0.1" start >/dev/null || {
	cat "$DIR/log" >&2
	exit 1
}

PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
psql_su() { as_postgres "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR/run" -p "$PORT" -d postgres "$@"; }
psql_su -c "CREATE ROLE ftpaudit LOGIN PASSWORD '$PASSWORD'"
psql_su -c "CREATE DATABASE ftpaudit_test OWNER ftpaudit"

umask 077
cat >"$DIR/env.sh" <<ENV
# Written by testdata/postgres/start.sh: source before go test.
export FTPAUDIT_TEST_POSTGRES='postgres://ftpaudit@127.0.0.1:$PORT/ftpaudit_test?sslmode=disable'
export PGPASSWORD='$PASSWORD'
ENV
echo "postgres postgres://ftpaudit@127.0.0.1:$PORT/ftpaudit_test $DIR/env.sh"
