#!/usr/bin/env bash
# stop.sh — stops the servers started by start.sh (by the pids it recorded: each server's
# whole process group, so also inetutils' per-connection ftpd processes; the private mount
# namespaces of pure-ftpd and inetutils go with their processes). Safe to run when nothing is
# running.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

for name in $SERVERS $TLS_SERVERS $EXTRA_SERVERS; do
	pidfile=$RUN_DIR/$name.pid
	[ -f "$pidfile" ] || continue
	pid=$(cat "$pidfile")
	# Only a process that is still the server we started (proftpd and pure-ftpd rewrite
	# their command lines, so check the executable; pyftpdlib and Twisted are python3 running
	# our script from $RUN_DIR; inetutils ftpd runs under systemd-socket-activate).
	exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
	case "$exe" in
	/usr/sbin/vsftpd | "$PREFIX"/proftpd/* | "$PREFIX"/pure-ftpd/* | /usr/bin/systemd-socket-activate) ours=1 ;;
	/usr/bin/python3*)
		case "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" in
		*" $RUN_DIR/pyftpd.py "* | *" $RUN_DIR/twistedftpd.py "*) ours=1 ;;
		*) ours=0 ;;
		esac
		;;
	*) ours=0 ;;
	esac
	if [ -n "$pid" ] && [ "$ours" = 1 ]; then
		# the whole session started by start.sh (master and its per-connection children)
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 50); do
			alive "$pid" || break
			sleep 0.1
		done
		kill -KILL -- "-$pid" 2>/dev/null || true
	fi
	rm -f "$pidfile"
done
exit 0
