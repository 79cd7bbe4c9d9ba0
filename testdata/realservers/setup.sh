#!/usr/bin/env bash
# Installs vsftpd, pyftpdlib and Twisted (with apt) and unpacks proftpd, pure-ftpd and GNU
# inetutils ftpd (which conflict with vsftpd as "ftp-server" providers) into
# /opt/ftpaudit-servers without installing them. Idempotent; needs root; non-interactive;
# needs nothing but the package registries. See docs/testing.md and docs/listing.md.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PREFIX=${FTPAUDIT_SERVERS_PREFIX:-/opt/ftpaudit-servers}
STAMP=$PREFIX/.setup-done-v1

if [ "$(id -u)" != 0 ]; then
	echo "setup.sh: must run as root" >&2
	exit 1
fi

need_update=1
# dl_dir: a fresh download directory (removed on exit).
DL_ROOT=$(mktemp -d)
chmod 755 "$DL_ROOT"
trap 'rm -rf "$DL_ROOT"' EXIT
dl_dir() {
	mktemp -d "$DL_ROOT/dl.XXXXXX"
}
apt_update() {
	if [ "$need_update" = 1 ]; then
		apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
		need_update=0
	fi
}

# Runtime libraries of proftpd-core, pure-ftpd and inetutils-ftpd (no conflicts, installed
# normally so that apt resolves their own dependencies), plus vsftpd itself, python3 for the
# probes, openssl (start.sh makes the FTPS server's test CA and certificate with it), the
# pyftpdlib and Twisted servers (run with /usr/bin/python3), and systemd-socket-activate
# (package systemd; the inetd that runs inetutils ftpd) if it is not there already.
PKGS="vsftpd libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3 libhashkit2
libsodium23 libcap2 libacl1 libidn2-0 libssl3 libpam0g libcrypt1 zlib1g libncursesw6 python3
openssl python3-pyftpdlib python3-twisted libwrap0 libnsl2"
if [ ! -x /usr/bin/systemd-socket-activate ]; then
	PKGS="$PKGS systemd"
fi
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	apt_update
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing >/dev/null
fi

# Installing the vsftpd package starts a system instance on port 21 on all addresses: stop
# that one (only when this script installed the package), we run our own on 127.0.0.1.
case " $missing " in
*" vsftpd "*)
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		systemctl disable --now vsftpd >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/vsftpd ]; then
		/etc/init.d/vsftpd stop >/dev/null 2>&1 || true
	fi
	;;
esac

if [ ! -e "$STAMP" ] || [ ! -x "$PREFIX/proftpd/usr/sbin/proftpd" ] || [ ! -x "$PREFIX/pure-ftpd/usr/sbin/pure-ftpd" ]; then
	apt_update
	dl=$(dl_dir)
	(cd "$dl" && apt-get -o APT::Sandbox::User=root download -q proftpd-core pure-ftpd >/dev/null)
	rm -rf "$PREFIX/proftpd" "$PREFIX/pure-ftpd"
	mkdir -p "$PREFIX/proftpd" "$PREFIX/pure-ftpd"
	dpkg -x "$dl"/proftpd-core_*.deb "$PREFIX/proftpd"
	dpkg -x "$dl"/pure-ftpd_*.deb "$PREFIX/pure-ftpd"
	touch "$STAMP"
fi

# GNU inetutils ftpd (conflicts with vsftpd too): unpacked next to the others.
if [ ! -x "$PREFIX/inetutils/usr/sbin/ftpd" ]; then
	apt_update
	dl=$(dl_dir)
	(cd "$dl" && apt-get -o APT::Sandbox::User=root download -q inetutils-ftpd >/dev/null)
	rm -rf "$PREFIX/inetutils"
	mkdir -p "$PREFIX/inetutils"
	dpkg -x "$dl"/inetutils-ftpd_*.deb "$PREFIX/inetutils"
fi

# System user ftp: anonymous user of every server; pure-ftpd and inetutils ftpd use its home
# as the anonymous root (start.sh points it at the archive in a private mount namespace), and
# the pyftpdlib and Twisted servers run as ftp.
if ! getent group ftp >/dev/null; then
	groupadd --system ftp
fi
if ! getent passwd ftp >/dev/null; then
	useradd --system --gid ftp --home-dir /srv/ftp --no-create-home --shell /usr/sbin/nologin ftp
fi
mkdir -p /srv/ftp

# versions: NAME=VERSION of every server, for the conformance table (docs/conformance.md,
# cmd/ftpaudit/conformance_realserver_test.go): the installed packages' versions, and the
# unpacked ones' from their Debian changelogs.
unpacked_version() {
	zcat "$1" 2>/dev/null | head -n 1 | sed -n 's/^[^ ]* (\([^)]*\)).*/\1/p'
}
{
	echo "vsftpd=$(dpkg-query -W -f='${Version}' vsftpd)"
	echo "proftpd=$(unpacked_version "$PREFIX/proftpd/usr/share/doc/proftpd-core/changelog.Debian.gz")"
	echo "pureftpd=$(unpacked_version "$PREFIX/pure-ftpd/usr/share/doc/pure-ftpd/changelog.Debian.gz")"
	echo "pyftpdlib=$(dpkg-query -W -f='${Version}' python3-pyftpdlib)"
	echo "twisted=$(dpkg-query -W -f='${Version}' python3-twisted)"
	echo "inetutils=$(unpacked_version "$PREFIX/inetutils/usr/share/doc/inetutils-ftpd/changelog.Debian.gz")"
} >"$PREFIX/versions"
