#!/usr/bin/env bash
# bigtree.sh — the largest archives (issue 17): wall time, peak RSS and
# bytes per entry of a default scan, a scan with `--inventory -o` and a
# scan with `--save`, on a generated tree of N entries (default
# 10,000,000) in DIRS directories (default N/50), served by vsftpd or
# proftpd on 127.0.0.1:$PORT. The files are hard links, 60,000 to an inode
# (ext4 allows 65,000), so the tree costs directory blocks and about
# DIRS + N/60,000 inodes, not N.
#
# Environment: BENCH_DIR (/var/lib/ftpaudit-bench), N (10000000), DIRS
# (N/50), SERVER (vsftpd or proftpd), PORT (2133; passive ports
# PORT*15+2000 .. +99), FTPAUDIT (a binary; built from this checkout when
# unset), MODES ("walk inventory save"), ARGS (extra scan flags),
# NO_BUILD_TREE (1: fail instead of building a missing tree).
#
#   N=1000000 bash testdata/bench/bigtree.sh
#   N=10000000 SERVER=proftpd bash testdata/bench/bigtree.sh
#
# Each mode is one `ftpaudit scan --connections 8` under /usr/bin/time,
# checked: the scan must be complete and report every entry of the tree
# (the directories below the root plus the files), or the script fails.
# See docs/benchmarks.md#the-largest-archives.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/lib/ftpaudit-bench}
N=${N:-10000000}
DIRS=${DIRS:-$((N / 50))}
SERVER=${SERVER:-vsftpd}
PORT=${PORT:-2133}
MODES=${MODES:-walk inventory save}
ROOT=$BENCH_DIR/big-$N-$DIRS
PROFTPD_PREFIX=${FTPAUDIT_SERVERS_PREFIX:-/opt/ftpaudit-servers}/proftpd
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
log() { echo "bigtree: $*" >&2; }
die() { log "$*"; exit 1; }

for m in $MODES; do
	case $m in walk | inventory | save) ;; *) die "unknown mode $m (want walk, inventory or save)" ;; esac
done
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"
FILES=$((N - DIRS))
[ "$FILES" -gt 0 ] || die "N=$N must be larger than DIRS=$DIRS"

# The tree: ROOT/t/dNNNN/sNNNNNN, two levels of directories (DIRS in all,
# the top level about sqrt(DIRS) wide), FILES files spread evenly, each a
# hard link to an inode in ROOT/.inodes (outside the served root).
if [ ! -f "$ROOT.done" ]; then
	[ "${NO_BUILD_TREE:-0}" = 1 ] && die "no tree at $ROOT (NO_BUILD_TREE=1)"
	log "building $ROOT: $DIRS directories, $FILES files (hard links)"
	rm -rf "$ROOT" && mkdir -p "$ROOT/t" "$ROOT/.inodes"
	python3 - "$ROOT" "$DIRS" "$FILES" <<'PY'
import math, os, sys
root, ndirs, nfiles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
LINKS = 60000
def inode(k):
    p = os.path.join(root, ".inodes", "i%d" % k)
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(b"x" * (1 + 512 * (k % 8)))
        os.chmod(p, 0o644)
    return p
top = max(1, int(math.isqrt(ndirs)))
made, leaves = 0, []
for i in range(top):
    if made == ndirs:
        break
    d = os.path.join(root, "t", "d%05d" % i)
    os.mkdir(d, 0o755)
    made += 1
    leaves.append(d)
i = 0
while made < ndirs:
    parent = leaves[i % top]
    d = os.path.join(parent, "s%07d" % i)
    os.mkdir(d, 0o755)
    leaves.append(d)
    made += 1
    i += 1
per, extra = divmod(nfiles, len(leaves))
n = 0
for j, d in enumerate(leaves):
    for _ in range(per + (1 if j < extra else 0)):
        os.link(inode(n // LINKS), os.path.join(d, "file-%08d.tar.gz" % n))
        n += 1
assert n == nfiles, (n, nfiles)
PY
	touch "$ROOT.done"
fi
chmod 755 "$ROOT" "$ROOT/t"

if [ -z "${FTPAUDIT:-}" ]; then
	FTPAUDIT=/tmp/ftpaudit-bigtree
	(cd "$REPO" && go build -o "$FTPAUDIT" ./cmd/ftpaudit)
fi
mkdir -p "$BENCH_DIR/empty"
PASV=$((PORT * 15 + 2000))
WORK=$(mktemp -d)
case $SERVER in
vsftpd)
	command -v vsftpd >/dev/null || die "vsftpd missing (apt-get install vsftpd)"
	sed -e "s#@ANON_ROOT@#$ROOT/t#g" -e "s#@EMPTY_DIR@#$BENCH_DIR/empty#g" \
		-e "s#^listen_port=.*#listen_port=$PORT#" -e "s#^pasv_min_port=.*#pasv_min_port=$PASV#" -e "s#^pasv_max_port=.*#pasv_max_port=$((PASV + 99))#" \
		"$HERE/vsftpd-bench.conf.in" >"$WORK/conf"
	vsftpd "$WORK/conf" >"$WORK/server.log" 2>&1 &
	;;
proftpd)
	[ -x "$PROFTPD_PREFIX/usr/sbin/proftpd" ] || die "no proftpd in $PROFTPD_PREFIX: run testdata/realservers/setup.sh once"
	sed -e "s#@ANON_ROOT@#$ROOT/t#g" -e "s#@RUN_DIR@#$WORK#g" \
		-e "s#^Port .*#Port $PORT#" -e "s#^PassivePorts .*#PassivePorts $PASV $((PASV + 99))#" \
		"$HERE/proftpd-bench.conf.in" >"$WORK/conf"
	LD_LIBRARY_PATH=$PROFTPD_PREFIX/usr/lib/x86_64-linux-gnu \
		"$PROFTPD_PREFIX/usr/sbin/proftpd" -n -q -c "$WORK/conf" >"$WORK/server.log" 2>&1 &
	;;
*) die "SERVER=$SERVER: want vsftpd or proftpd" ;;
esac
SPID=$!
trap 'kill $SPID 2>/dev/null || true; wait $SPID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
kill -0 "$SPID" 2>/dev/null || die "$SERVER exited: $(cat "$WORK/server.log")"

# hostfield FILE FIELD: the first host's FIELD (a jq path below the host),
# read by streaming (the report may hold an inventory of millions).
hostfield() {
	jq -n --stream "first(inputs | select(length == 2 and .[0] == ([\"hosts\", 0] + (\"$2\" | split(\".\")))) | .[1])" "$1"
}

want=$N
fail=0
printf '| server | mode | entries | wall s | peak RSS MB | bytes/entry (RSS) | CPU s | complete |\n|---|---|---:|---:|---:|---:|---:|---|\n' >"$WORK/table"
for mode in $MODES; do
	flags=(--format json -o "$WORK/report.json")
	case $mode in
	inventory) flags+=(--inventory) ;;
	save) flags+=(--save --db "$WORK/history.db") ;;
	esac
	log "$SERVER $mode: scanning"
	# shellcheck disable=SC2086
	/usr/bin/time -f '%e %M %U %S' -o "$WORK/time" "$FTPAUDIT" scan --quiet --connections 8 "${flags[@]}" ${ARGS:-} "ftp://127.0.0.1:$PORT/" 2>"$WORK/stderr" || true
	# The last line: /usr/bin/time puts "Command exited with non-zero
	# status N" before it when the scan exits non-zero.
	read -r wall rss user sys < <(tail -n 1 "$WORK/time")
	dirs=0 files=0 complete=false
	if [ -s "$WORK/report.json" ]; then
		dirs=$(hostfield "$WORK/report.json" stats.dirs)
		files=$(hostfield "$WORK/report.json" stats.files)
		complete=$(hostfield "$WORK/report.json" complete)
	fi
	got=$((${dirs:-0} + ${files:-0}))
	cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
	per=$(awk -v r="$rss" -v n="$want" 'BEGIN { printf "%.0f", r * 1024 / n }')
	printf '| %s | %s | %s | %s | %d | %s | %s | %s |\n' "$SERVER" "$mode" "$got" "$wall" $((rss / 1024)) "$per" "$cpu" "$complete" >>"$WORK/table"
	if [ "$got" != "$want" ] || [ "$complete" != true ]; then
		log "$SERVER $mode: $got of $want entries, complete: $complete"
		tail -n 5 "$WORK/stderr" >&2
		fail=1
	fi
	rm -f "$WORK/report.json"
done
cat "$WORK/table"
exit $fail
