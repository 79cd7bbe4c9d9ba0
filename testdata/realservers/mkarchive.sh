#!/usr/bin/env bash
# mkarchive.sh DIR — builds the awkward anonymous-FTP test archive at DIR (removing any
# previous one). Must run as root (root-owned unreadable dirs, ftp-owned upload).
# Content and mtimes are deterministic. Prints nothing except errors. See docs/listing.md.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
	echo "usage: mkarchive.sh DIR" >&2
	exit 2
fi
DIR=$1
case "$DIR" in
/ | /etc | /usr | /root | /home | /var | /tmp | /srv | /opt)
	echo "mkarchive.sh: refusing to use $DIR" >&2
	exit 2
	;;
esac
if [ "$(id -u)" != 0 ]; then
	echo "mkarchive.sh: must run as root" >&2
	exit 1
fi
FTPUSER=${FTPAUDIT_FTP_USER:-ftp}
if ! getent passwd "$FTPUSER" >/dev/null; then
	echo "mkarchive.sh: system user $FTPUSER missing (run setup.sh)" >&2
	exit 1
fi

if [ -e "$DIR" ] || [ -L "$DIR" ]; then
	# Unreadable dirs (000/111) are no obstacle for root, but be explicit.
	chmod -R u+rwx "$DIR" 2>/dev/null || true
	rm -rf "$DIR"
fi
mkdir -p "$DIR"
cd "$DIR"

# fill FILE SIZE: deterministic content of SIZE bytes.
fill() {
	local f=$1 n=$2
	if [ "$n" -eq 0 ]; then
		: >"$f"
	else
		head -c "$n" < <(yes "ftpaudit test data for ${f##*/} 0123456789abcdef") >"$f"
	fi
}

# --- normal tree -------------------------------------------------------------------
mkdir -p pub/docs/manual pub/software/v1.0 pub/software/v2.0 pub/images pub/empty
fill README.txt 120
fill pub/README 300
fill pub/docs/guide.txt 4096
fill pub/docs/manual/ch1.txt 1500
fill pub/docs/manual/ch2.txt 2500
fill pub/software/v1.0/tool-1.0.tar.gz 65536
fill pub/software/v1.0/tool-1.0.tar.gz.sha256 81
fill pub/software/v2.0/tool-2.0.tar.gz 262144
fill pub/software/v2.0/CHANGES 0
fill pub/images/logo.png 777
fill pub/.message 64
fill pub/docs/.listing-cache 10
mkdir -p empty

# deep chain: deep/l01/l02/.../l10/bottom.txt
p=deep
for i in 01 02 03 04 05 06 07 08 09 10; do p=$p/l$i; done
mkdir -p "$p"
fill "$p/bottom.txt" 42

# --- hidden / whitespace names -------------------------------------------------------
fill .hidden 17
mkdir -p .hiddendir && fill .hiddendir/secret.txt 33
mkdir -p ...  && fill .../in-three-dots.txt 11
mkdir -p "  " && fill "  /in-two-spaces.txt" 12
mkdir -p ". " && fill ". /in-dot-space.txt" 13
mkdir -p " lead dir" && fill " lead dir/in-lead-dir.txt" 14
mkdir -p "trail dir " && fill "trail dir /in-trail-dir.txt" 15
mkdir -p "mid  dir" && fill "mid  dir/in-mid-dir.txt" 16
fill " lead" 18
fill "trail " 19

# --- non-ASCII and invalid UTF-8 ------------------------------------------------------
mkdir -p "café" && fill "café/menu.txt" 20
fill "日本語.txt" 21
fill $'\xff\xfe.bin' 22
mkdir -p $'bad\xffdir' && fill $'bad\xffdir/in-bad-utf8.txt' 23
# Latin-1 e-acute (0xE9): valid Latin-1, invalid UTF-8.
fill $'latin1-caf\xe9.txt' 24

# --- option-like, glob and arrow names -----------------------------------------------
mkdir -p -- -rf && fill ./-rf/in-dash-rf.txt 25
fill ./-l 26
mkdir -p "[abc]" && fill "[abc]/in-brackets.txt" 26
mkdir -p c && fill c/in-c.txt 27 # what "[abc]" matches if a server globs
mkdir -p "star*name" && fill "star*name/in-star.txt" 28
mkdir -p "starXname" && fill "starXname/in-starX.txt" 29 # what "star*name" also matches
mkdir -p "q?mark" && fill "q?mark/in-qmark.txt" 30
fill "link -> target.txt" 31
fill "target.txt" 32

# --- permissions ---------------------------------------------------------------------
mkdir -p bin etc noperm private incoming writable
fill bin/ls 1024
fill etc/passwd 60
fill etc/group 40
fill noperm/secret.txt 34
fill private/secret.txt 35
fill writable/existing.txt 36
fill writable/world-writable-file.txt 37
chmod 666 writable/world-writable-file.txt
fill pub/world-writable.txt 38
chmod 666 pub/world-writable.txt
# drop box: an earlier anonymous upload, owned by the ftp user
fill incoming/uploaded-earlier.zip 39
chown "$FTPUSER" incoming/uploaded-earlier.zip
mkdir -p "incoming/earlier-dir" && fill incoming/earlier-dir/f.txt 40
chown -R "$FTPUSER" incoming/earlier-dir

# --- symlinks -------------------------------------------------------------------------
mkdir -p links
ln -s . links/loop
ln -s b links/a
ln -s a links/b
ln -s ../pub links/pubdir
ln -s ../README.txt links/readme-link
ln -s /etc links/escape-abs
ln -s ../../.. links/escape-up
ln -s /etc/passwd links/escape-passwd
ln -s does-not-exist links/dangling
ln -s ../noperm links/to-noperm
ln -s pub pub-link

# --- deterministic modes and times ---------------------------------------------------
chown -R -h root:root . 2>/dev/null || true
chown "$FTPUSER" incoming/uploaded-earlier.zip
chown -R "$FTPUSER" incoming/earlier-dir
find . -type d -exec chmod 755 {} +
find . -type f -exec chmod 644 {} +
chmod 666 writable/world-writable-file.txt pub/world-writable.txt

# Planted problems for the judgement tests (cmd/ftpaudit/realserver_test.go,
# TestRealServersPlanted): one or more per rule.
printf '+ +\n' >pub/.rhosts                                   # suspicious-name (trust file)
mkdir -p writable/warez                                       # in a writable area:
fill writable/warez/file_id.diz 44                            #   suspicious-name + in-writable-area
fill writable/warez/release.nfo 45
fill writable/warez/keygen.exe 46
mkdir -p pub/mirror/etc                                       # passwd-hashes
printf 'root:$6$saltsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijk:0:0:root:/root:/bin/sh\nftp:*:14:50::/srv/ftp:/usr/sbin/nologin\n' >pub/mirror/etc/passwd
chmod 755 pub/mirror pub/mirror/etc
chmod 644 pub/mirror/etc/passwd pub/.rhosts
fill pub/ftp-owned.txt 47                                     # upload-owner
chown "$FTPUSER" pub/ftp-owned.txt
fill pub/CON.txt 48                                           # hidden-name (Windows reserved)
mkdir -p latent                                               # 777, but proftpd refuses writes: latent-writable there
find . -exec touch -h -d "2021-03-04 05:06:07 UTC" {} +
# the ones set last: changing modes does not touch mtimes, but be safe with order
chmod 111 bin etc
chmod 000 noperm
chmod 700 private
chmod 1733 incoming
chmod 777 writable latent
chmod 755 .
