# Shared settings of start.sh, stop.sh and env.sh (sourced, not run).
# shellcheck shell=bash
PREFIX=${FTPAUDIT_SERVERS_PREFIX:-/opt/ftpaudit-servers}
RUN_DIR=${FTPAUDIT_RUN_DIR:-/run/ftpaudit-servers}
DATA_DIR=${FTPAUDIT_DATA_DIR:-/var/lib/ftpaudit-servers}
# The plain-FTP servers of FTPAUDIT_REAL_SERVERS, which CI requires all of.
SERVERS=${FTPAUDIT_SERVERS:-vsftpd proftpd pureftpd pyftpdlib twisted inetutils}
# The FTPS server (vsftpd requiring explicit TLS, see docs/listing.md "FTPS"). Kept apart from
# SERVERS: FTPAUDIT_REAL_SERVERS lists plain-FTP servers only. FTPAUDIT_TLS_SERVERS=""
# leaves it out.
TLS_SERVERS=${FTPAUDIT_TLS_SERVERS-vsftpd-tls}
# Extras, kept apart from SERVERS (each has its own variable in env.sh):
#   vsftpd-r          a second plain vsftpd with ls_recurse_enable=YES, for the recursive
#                     listing tests (docs/listing.md "Recursive listing"): FTPAUDIT_RECURSE_SERVER
#   pyftpdlib-nomlsd  pyftpdlib with MLSD and MLST turned off, pyftpdlib's LIST-only dialect:
#                     FTPAUDIT_NOMLSD_SERVER
# FTPAUDIT_EXTRA_SERVERS="" leaves both out.
EXTRA_SERVERS=${FTPAUDIT_EXTRA_SERVERS-vsftpd-r pyftpdlib-nomlsd}

server_port() {
	case $1 in
	vsftpd) echo 2121 ;; proftpd) echo 2122 ;; pureftpd) echo 2123 ;; vsftpd-tls) echo 2124 ;;
	vsftpd-r) echo 2125 ;; pyftpdlib) echo 2126 ;; twisted) echo 2127 ;; inetutils) echo 2128 ;;
	pyftpdlib-nomlsd) echo 2129 ;;
	esac
}
# Passive port ranges. inetutils ftpd has no setting for one: the kernel picks its passive
# ports (from the ephemeral range), so it has none here.
pasv_min() {
	case $1 in
	vsftpd) echo 30000 ;; proftpd) echo 30050 ;; pureftpd) echo 30100 ;; vsftpd-tls) echo 30200 ;;
	vsftpd-r) echo 30250 ;; pyftpdlib) echo 30300 ;; twisted) echo 30350 ;; pyftpdlib-nomlsd) echo 30400 ;;
	esac
}
# pure-ftpd caps its users at half the passive port range ("421 25 users (the maximum) are
# already logged in" with 50 ports, whatever -c says), so its range has 100 ports.
pasv_max() {
	case $1 in
	vsftpd) echo 30049 ;; proftpd) echo 30099 ;; pureftpd) echo 30199 ;; vsftpd-tls) echo 30249 ;;
	vsftpd-r) echo 30299 ;; pyftpdlib) echo 30349 ;; twisted) echo 30399 ;; pyftpdlib-nomlsd) echo 30449 ;;
	esac
}
archive_dir() {
	echo "$DATA_DIR/$1/archive"
}
# tls_dir NAME: the test CA and the server's certificate and key (made by ensure_tls_certs).
tls_dir() {
	echo "$DATA_DIR/$1/tls"
}
# Connection limits (see docs/listing.md, "Connection limits"): at least 32 concurrent anonymous
# connections from 127.0.0.1.
# FTPAUDIT_DEFAULT_LIMITS=1 leaves every limit at the server's default (to measure them).
server_limits() {
	[ "${FTPAUDIT_DEFAULT_LIMITS:-0}" = 1 ] && return 0
	case $1 in
	vsftpd | vsftpd-tls | vsftpd-r) printf 'max_clients=64\nmax_per_ip=48\n' ;;
	proftpd) printf 'MaxInstances 64\nMaxClientsPerHost 48\nMaxClients 64\n' ;;
	pureftpd) ;;
	# pyftpdlib (max_cons 64, max_cons_per_ip 48) and Twisted (connectionLimit 64) set theirs
	# in their scripts; systemd-socket-activate starts one inetutils ftpd per connection,
	# without a limit.
	esac
}
pureftpd_flags() {
	local limits="-c 64 -C 48"
	[ "${FTPAUDIT_DEFAULT_LIMITS:-0}" = 1 ] && limits=""
	# pure-ftpd's default: anonymous users see dotfiles in "LIST -a"/MLSD but may not CWD into or
	# RETR them (553 Prohibited file name). FTPAUDIT_PUREFTPD_DOTFILES=1 adds -z to allow that.
	local dot=""
	[ "${FTPAUDIT_PUREFTPD_DOTFILES:-0}" = 1 ] && dot="-z"
	echo "-S 127.0.0.1,$(server_port pureftpd) -e -M -p $(pasv_min pureftpd):$(pasv_max pureftpd) $limits $dot -H -A"
}
