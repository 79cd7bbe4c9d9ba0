# env.sh — source after start.sh:  . testdata/realservers/env.sh
# Exports FTPAUDIT_REAL_SERVERS="name=url=archive-dir,..." for the Go tests, e.g.
#   vsftpd=ftp://127.0.0.1:2121=/var/lib/ftpaudit-servers/vsftpd/archive,proftpd=...,pureftpd=...
# Honours the same FTPAUDIT_DATA_DIR / FTPAUDIT_SERVERS as start.sh. Defines nothing else.
# shellcheck shell=bash
FTPAUDIT_REAL_SERVERS=$(
	# shellcheck source=common.sh
	. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
	sep=""
	for name in $SERVERS; do
		printf '%s%s=ftp://127.0.0.1:%s=%s' "$sep" "$name" "$(server_port "$name")" "$(archive_dir "$name")"
		sep=","
	done
)
export FTPAUDIT_REAL_SERVERS
