# env.sh — source after start.sh:  . testdata/realservers/env.sh
# Exports FTPAUDIT_REAL_SERVERS="name=url=archive-dir,..." for the Go tests, e.g.
#   vsftpd=ftp://127.0.0.1:2121=/var/lib/ftpaudit-servers/vsftpd/archive,proftpd=...,pureftpd=...,
#   pyftpdlib=...,twisted=...,inetutils=...
# and, unless FTPAUDIT_TLS_SERVERS="", FTPAUDIT_FTPS_SERVER="name=url=archive-dir=ca-file":
#   vsftpd-tls=ftps://127.0.0.1:2124=/var/lib/ftpaudit-servers/vsftpd-tls/archive=/var/lib/ftpaudit-servers/vsftpd-tls/tls/ca.pem
# (plain-FTP servers only in the first: the tests that read it assume ftp://).
# and, when FTPAUDIT_EXTRA_SERVERS (default "vsftpd-r pyftpdlib-nomlsd") names them,
# FTPAUDIT_RECURSE_SERVER="name=url=archive-dir" (vsftpd-r: vsftpd with ls_recurse_enable=YES)
# and FTPAUDIT_NOMLSD_SERVER="name=url=archive-dir" (pyftpdlib-nomlsd: pyftpdlib without MLSD).
# Honours the same FTPAUDIT_DATA_DIR / FTPAUDIT_SERVERS / FTPAUDIT_TLS_SERVERS /
# FTPAUDIT_EXTRA_SERVERS as start.sh.
# Defines nothing else (a helper function is removed again).
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
FTPAUDIT_FTPS_SERVER=$(
	# shellcheck source=common.sh
	. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
	for name in $TLS_SERVERS; do
		printf '%s=ftps://127.0.0.1:%s=%s=%s' "$name" "$(server_port "$name")" "$(archive_dir "$name")" "$(tls_dir "$name")/ca.pem"
		break
	done
)
if [ -n "$FTPAUDIT_FTPS_SERVER" ]; then
	export FTPAUDIT_FTPS_SERVER
else
	unset FTPAUDIT_FTPS_SERVER
fi
# _ftpaudit_extra NAME: "name=url=archive-dir" when NAME is among the extras, else nothing.
_ftpaudit_extra() (
	# shellcheck source=common.sh
	. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
	for name in $EXTRA_SERVERS; do
		if [ "$name" = "$1" ]; then
			printf '%s=ftp://127.0.0.1:%s=%s' "$name" "$(server_port "$name")" "$(archive_dir "$name")"
		fi
	done
)
FTPAUDIT_RECURSE_SERVER=$(_ftpaudit_extra vsftpd-r)
if [ -n "$FTPAUDIT_RECURSE_SERVER" ]; then
	export FTPAUDIT_RECURSE_SERVER
else
	unset FTPAUDIT_RECURSE_SERVER
fi
FTPAUDIT_NOMLSD_SERVER=$(_ftpaudit_extra pyftpdlib-nomlsd)
if [ -n "$FTPAUDIT_NOMLSD_SERVER" ]; then
	export FTPAUDIT_NOMLSD_SERVER
else
	unset FTPAUDIT_NOMLSD_SERVER
fi
unset -f _ftpaudit_extra
