#!/usr/bin/env bash
# start.sh — (re)starts the real FTP servers on 127.0.0.1, each over its own fresh copy of the
# test archive (mkarchive.sh): vsftpd, proftpd, pure-ftpd, pyftpdlib (MLSD on), Twisted and
# GNU inetutils ftpd (inetd-style, under systemd-socket-activate); plus vsftpd-tls, a second
# vsftpd that requires explicit TLS (certificate from a test CA made here), and the extras
# vsftpd-r (ls_recurse_enable=YES) and pyftpdlib-nomlsd (MLSD and MLST off). pyftpdlib and
# Twisted run as the user ftp, so Unix modes apply to them as to the others. Run setup.sh
# first. Safe to run twice (stops old instances first). Prints one line per server: NAME URL
# ARCHIVE-DIR [CA-FILE]. See docs/testing.md and docs/listing.md.
#
# Environment (all optional):
#   FTPAUDIT_SERVERS_PREFIX  where setup.sh unpacked proftpd/pure-ftpd/inetutils (/opt/ftpaudit-servers)
#   FTPAUDIT_RUN_DIR         configs, pid files, logs (/run/ftpaudit-servers)
#   FTPAUDIT_DATA_DIR        archive copies (/var/lib/ftpaudit-servers)
#   FTPAUDIT_SERVERS         subset to start, e.g. "vsftpd proftpd" (default: all six)
#   FTPAUDIT_TLS_SERVERS     "vsftpd-tls" (default) or "" to leave the FTPS server out
#   FTPAUDIT_EXTRA_SERVERS   "vsftpd-r pyftpdlib-nomlsd" (default), a subset, or ""
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE/common.sh"

if [ "$(id -u)" != 0 ]; then
	echo "start.sh: must run as root" >&2
	exit 1
fi

"$HERE/stop.sh"

mkdir -p "$RUN_DIR" "$DATA_DIR"
chmod 755 "$RUN_DIR" "$DATA_DIR"
mkdir -p "$RUN_DIR/vsftpd-empty"
chmod 755 "$RUN_DIR/vsftpd-empty"

# render TEMPLATE OUT NAME: fill the @...@ placeholders.
render() {
	local tmpl=$1 out=$2 name=$3 limits
	limits=$(server_limits "$name")
	TMPL_ARCHIVE=$(archive_dir "$name") TMPL_RUNDIR=$RUN_DIR TMPL_PORT=$(server_port "$name") \
		TMPL_PASV_MIN=$(pasv_min "$name") TMPL_PASV_MAX=$(pasv_max "$name") TMPL_LIMITS=$limits \
		TMPL_TLSDIR=$(tls_dir "$name") python3 - "$tmpl" "$out" <<'PY'
import os, sys
s = open(sys.argv[1]).read()
for k in ("ARCHIVE", "RUNDIR", "PORT", "PASV_MIN", "PASV_MAX", "LIMITS", "TLSDIR"):
    s = s.replace("@%s@" % k, os.environ["TMPL_" + k])
open(sys.argv[2], "w").write(s)
PY
}

# launch NAME CMD...: start CMD detached (own session, no inherited stdio), record its pid.
launch() {
	local name=$1
	shift
	setsid "$@" </dev/null >"$RUN_DIR/$name.out" 2>&1 &
	echo $! >"$RUN_DIR/$name.pid"
}

# wait_220 NAME: wait up to 20 s for a "220" greeting on the server's port.
wait_220() {
	local name=$1 port line pid deadline
	port=$(server_port "$name")
	pid=$(cat "$RUN_DIR/$name.pid")
	deadline=$((SECONDS + 20))
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		line=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && IFS= read -r l <&3 && printf '%s' \"\$l\"" 2>/dev/null || true)
		case "$line" in
		220*) return 0 ;;
		esac
		sleep 0.5
	done
	echo "start.sh: $name did not answer with a 220 greeting on 127.0.0.1:$port" >&2
	tail -n 20 "$RUN_DIR/$name.out" >&2 2>/dev/null || true
	return 1
}

start_vsftpd() {
	render "$HERE/vsftpd.conf.in" "$RUN_DIR/vsftpd.conf" vsftpd
	launch vsftpd /usr/sbin/vsftpd "$RUN_DIR/vsftpd.conf"
}

# ensure_tls_certs NAME: a self-signed test CA (ca.pem, ca.key) and a server certificate it
# signed for IP 127.0.0.1 and DNS localhost (server.pem, server.key) in tls_dir NAME. Kept
# across runs (the CA file path and content stay stable); each is re-made only when missing,
# expiring within 30 days, or (server) not matching its key, the CA or the names. Offline.
ensure_tls_certs() {
	local dir ser out
	dir=$(tls_dir "$1")
	mkdir -p "$dir"
	chmod 755 "$dir"
	if [ ! -s "$dir/ca.key" ] || ! openssl x509 -in "$dir/ca.pem" -noout -checkend 2592000 >/dev/null 2>&1; then
		rm -f "$dir/ca.pem" "$dir/ca.key" "$dir/server.pem" "$dir/server.key"
		(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/ca.key" 2>/dev/null)
		openssl req -x509 -new -key "$dir/ca.key" -sha256 -days 3650 -subj "/CN=ftpaudit test CA" \
			-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
			-addext "subjectKeyIdentifier=hash" -out "$dir/ca.pem"
		chmod 644 "$dir/ca.pem"
	fi
	if [ -s "$dir/server.key" ] && [ -s "$dir/server.pem" ] &&
		openssl verify -CAfile "$dir/ca.pem" -purpose sslserver "$dir/server.pem" >/dev/null 2>&1 &&
		openssl x509 -in "$dir/server.pem" -noout -checkend 2592000 >/dev/null 2>&1 &&
		openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName 2>/dev/null | grep -q 'IP Address:127.0.0.1' &&
		openssl x509 -in "$dir/server.pem" -noout -ext subjectAltName 2>/dev/null | grep -q 'DNS:localhost' &&
		[ "$(openssl x509 -in "$dir/server.pem" -noout -pubkey)" = "$(openssl pkey -in "$dir/server.key" -pubout)" ]; then
		return 0
	fi
	rm -f "$dir/server.pem" "$dir/server.key" "$dir/server.csr"
	(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/server.key" 2>/dev/null)
	openssl req -new -key "$dir/server.key" -subj "/CN=127.0.0.1" -out "$dir/server.csr"
	ser=0x$(openssl rand -hex 16)
	# (openssl 3 chats on stderr even when all is well: shown only on failure)
	if ! out=$(openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
		-set_serial "$ser" -sha256 -days 825 -out "$dir/server.pem" -extfile <(printf '%s\n' \
			"basicConstraints=critical,CA:FALSE" \
			"keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth" \
			"subjectAltName=IP:127.0.0.1,DNS:localhost" \
			"authorityKeyIdentifier=keyid") 2>&1); then
		echo "start.sh: signing the $1 test certificate failed: $out" >&2
		return 1
	fi
	rm -f "$dir/server.csr"
	chmod 644 "$dir/server.pem"
}

# vsftpd-r: the plain vsftpd configuration with recursive LIST allowed.
start_vsftpd_r() {
	render "$HERE/vsftpd.conf.in" "$RUN_DIR/vsftpd-r.conf" vsftpd-r
	sed -i "s#^vsftpd_log_file=.*#vsftpd_log_file=$RUN_DIR/vsftpd-r.log#" "$RUN_DIR/vsftpd-r.conf"
	echo "ls_recurse_enable=YES" >>"$RUN_DIR/vsftpd-r.conf"
	launch vsftpd-r /usr/sbin/vsftpd "$RUN_DIR/vsftpd-r.conf"
}

start_vsftpd_tls() {
	ensure_tls_certs vsftpd-tls
	render "$HERE/vsftpd-tls.conf.in" "$RUN_DIR/vsftpd-tls.conf" vsftpd-tls
	launch vsftpd-tls /usr/sbin/vsftpd "$RUN_DIR/vsftpd-tls.conf"
}

# wait_tls NAME: AUTH TLS on the server's port must give a handshake whose certificate
# verifies against the test CA for 127.0.0.1 (vsftpd loads its certificate only then).
wait_tls() {
	local name=$1 port out
	port=$(server_port "$name")
	out=$(timeout 15 openssl s_client -brief -starttls ftp -connect "127.0.0.1:$port" \
		-CAfile "$(tls_dir "$name")/ca.pem" -verify_ip 127.0.0.1 -verify_return_error </dev/null 2>&1) || true
	case "$out" in
	*"Verification: OK"*) return 0 ;;
	esac
	echo "start.sh: $name: no verified TLS handshake after AUTH TLS on 127.0.0.1:$port:" >&2
	printf '%s\n' "$out" | tail -n 10 >&2
	tail -n 20 "$RUN_DIR/$name.out" >&2 2>/dev/null || true
	return 1
}

start_proftpd() {
	render "$HERE/proftpd.conf.in" "$RUN_DIR/proftpd.conf" proftpd
	LD_LIBRARY_PATH=$PREFIX/proftpd/usr/lib/x86_64-linux-gnu \
		launch proftpd "$PREFIX/proftpd/usr/sbin/proftpd" -n -q -c "$RUN_DIR/proftpd.conf"
}

start_pureftpd() {
	# pure-ftpd's anonymous root is the home of the system user ftp. To leave that home
	# (shared with anything else on the machine) alone, run pure-ftpd in a private mount
	# namespace in which the archive copy is bind-mounted over the ftp home.
	local home archive
	home=$(getent passwd ftp | cut -d: -f6)
	archive=$(archive_dir pureftpd)
	mkdir -p "$home"
	# shellcheck disable=SC2046
	launch pureftpd unshare -m --propagation private \
		sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh "$archive" "$home" \
		"$PREFIX/pure-ftpd/usr/sbin/pure-ftpd" $(pureftpd_flags) \
		-g "$RUN_DIR/pureftpd.pid.daemon"
}

# AS_FTP CMD...: CMD as the unprivileged user ftp (no supplementary groups), in /, with a
# minimal environment. The servers that do not drop privileges themselves (pyftpdlib, Twisted)
# run so, so that the archive's Unix modes apply to them as to the others.
AS_FTP=(setpriv --reuid=ftp --regid=ftp --clear-groups env -i -C / PATH=/usr/bin:/bin HOME=/ LC_ALL=C.UTF-8)

# python_script NAME: the server script, copied where the user ftp can read it (the checkout
# may be in a directory ftp cannot enter).
python_script() {
	install -m 644 "$HERE/$1" "$RUN_DIR/$1"
	echo "$RUN_DIR/$1"
}

default_limits_flag() {
	if [ "${FTPAUDIT_DEFAULT_LIMITS:-0}" = 1 ]; then echo --default-limits; fi
}

# pyftpdlib, and pyftpdlib-nomlsd (the same with MLSD and MLST off): see pyftpd.py.
start_pyftpdlib() {
	local name=$1 script
	shift
	script=$(python_script pyftpd.py)
	# shellcheck disable=SC2046
	launch "$name" "${AS_FTP[@]}" /usr/bin/python3 "$script" "$(archive_dir "$name")" "$(server_port "$name")" \
		"$(pasv_min "$name")" "$(pasv_max "$name")" "$@" $(default_limits_flag)
}

# Twisted: see twistedftpd.py.
start_twisted() {
	local script
	script=$(python_script twistedftpd.py)
	# shellcheck disable=SC2046
	launch twisted "${AS_FTP[@]}" /usr/bin/python3 "$script" "$(archive_dir twisted)" "$(server_port twisted)" \
		"$(pasv_min twisted)" "$(pasv_max twisted)" $(default_limits_flag)
}

start_inetutils() {
	# inetutils ftpd is inetd-style: systemd-socket-activate listens and starts one
	# "ftpd -A" (anonymous only) per connection on it. Anonymous users are chrooted to the
	# home of the user ftp: in a private mount namespace, a copy of /etc/passwd in which that
	# home is the archive copy is bind-mounted over /etc/passwd (the machine's own file is
	# not touched; the mount goes with the processes). -u 022: what anonymous users create is
	# world-readable, as with the others (vsftpd's anon_umask=022, proftpd's Umask 022;
	# inetutils' own default is 027).
	local passwd=$RUN_DIR/inetutils.passwd
	awk -F: -v OFS=: -v home="$(archive_dir inetutils)" '$1 == "ftp" { $6 = home } { print }' /etc/passwd >"$passwd"
	chmod 644 "$passwd"
	if ! grep -q "^ftp:[^:]*:[^:]*:[^:]*:[^:]*:$(archive_dir inetutils):" "$passwd"; then
		echo "start.sh: inetutils: no user ftp in /etc/passwd (run setup.sh)" >&2
		return 1
	fi
	launch inetutils unshare -m --propagation private \
		sh -c 'mount --bind "$1" /etc/passwd && shift && exec "$@"' sh "$passwd" \
		/usr/bin/systemd-socket-activate --inetd -a -l "127.0.0.1:$(server_port inetutils)" \
		"$PREFIX/inetutils/usr/sbin/ftpd" -A -u 022
}

# port_busy PORT: true if some socket listens on TCP port PORT (any IPv4/IPv6 address).
port_busy() {
	local hex
	hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { found = 1 }
		END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

for name in $SERVERS $TLS_SERVERS $EXTRA_SERVERS; do
	port=$(server_port "$name")
	for ((i = 0; i < 20; i++)); do
		port_busy "$port" || break
		sleep 0.25
	done
	if port_busy "$port"; then
		echo "start.sh: $name: port $port is already in use by another process" >&2
		exit 1
	fi
done

failed=""
first=""
for name in $SERVERS $TLS_SERVERS $EXTRA_SERVERS; do
	# one fresh archive, copied (modes, owners, times, symlinks) for the other servers
	archive=$(archive_dir "$name")
	if [ -z "$first" ]; then
		"$HERE/mkarchive.sh" "$archive"
		first=$archive
	else
		rm -rf "$archive"
		mkdir -p "$(dirname "$archive")"
		cp -a "$first" "$archive"
	fi
	# pyftpdlib and Twisted run as ftp: the path to the archive must let ftp through.
	chmod 755 "$(dirname "$archive")"
	case $name in
	vsftpd) start_vsftpd ;;
	proftpd) start_proftpd ;;
	pureftpd) start_pureftpd ;;
	vsftpd-tls) start_vsftpd_tls ;;
	vsftpd-r) start_vsftpd_r ;;
	pyftpdlib) start_pyftpdlib pyftpdlib ;;
	pyftpdlib-nomlsd) start_pyftpdlib pyftpdlib-nomlsd --no-mlsd ;;
	twisted) start_twisted ;;
	inetutils) start_inetutils ;;
	*)
		echo "start.sh: unknown server $name" >&2
		exit 2
		;;
	esac
done
for name in $SERVERS $TLS_SERVERS $EXTRA_SERVERS; do
	if ! wait_220 "$name"; then
		failed="$failed $name"
	fi
done
for name in $TLS_SERVERS; do
	case " $failed " in
	*" $name "*) continue ;;
	esac
	if ! wait_tls "$name"; then
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	echo "start.sh: failed to start:$failed" >&2
	exit 1
fi
for name in $SERVERS $EXTRA_SERVERS; do
	printf '%s ftp://127.0.0.1:%s %s\n' "$name" "$(server_port "$name")" "$(archive_dir "$name")"
done
for name in $TLS_SERVERS; do
	printf '%s ftps://127.0.0.1:%s %s %s\n' "$name" "$(server_port "$name")" "$(archive_dir "$name")" "$(tls_dir "$name")/ca.pem"
done
