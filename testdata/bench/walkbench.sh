#!/usr/bin/env bash
# walkbench.sh — time a full `ftpaudit scan` against `rclone lsf -R` at equal
# connection counts, in the same run, on a synthetic archive served by vsftpd
# (or proftpd) on 127.0.0.1:2131. See docs/benchmarks.md.
#
# Environment (all optional):
#   SERVER       vsftpd (default: LIST -R refused), vsftpd-r (vsftpd with
#                ls_recurse_enable=YES) or proftpd (recursive LIST on, its
#                default; needs testdata/realservers/setup.sh run once)
#   FLAGS        extra `ftpaudit scan` flags, e.g. --no-recursive-list
#   BENCH_DIR    where the tree, config and results live (/var/lib/ftpaudit-bench)
#   DIRS FILES   tree size (5000 100000)
#   CONNS        connection counts to test ("1 4 8 16")
#   RUNS         timed runs per tool and connection count (3)
#   WARMUP       untimed runs of each tool before timing (1)
#   FTPAUDIT     an ftpaudit binary to use instead of building one
#   RUN_TIMEOUT  seconds before one run is killed (1800)
#   QUIET_WAIT   before each timed run, wait up to this many seconds for the
#                machine's CPUs to be under 15% busy (120; 0 disables)
#   NO_INSTALL   set to 1 to skip apt-get
#   KEEP         set to 1 to keep every run's listing/report (default: only the
#                warm-up's; the others are deleted once counted)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/lib/ftpaudit-bench}
DIRS=${DIRS:-5000}
FILES=${FILES:-100000}
CONNS=${CONNS:-"1 4 8 16"}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-1800}
HOST=127.0.0.1
PORT=2131 # fixed in vsftpd-bench.conf.in and proftpd-bench.conf.in
SERVER=${SERVER:-vsftpd}
FLAGS=${FLAGS:-}
PROFTPD_PREFIX=${FTPAUDIT_SERVERS_PREFIX:-/opt/ftpaudit-servers}/proftpd
TREE=$BENCH_DIR/tree
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$BENCH_DIR/results/$STAMP
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin

log() { echo "walkbench: $*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# --- tools ---------------------------------------------------------------------
need=()
command -v vsftpd >/dev/null || need+=(vsftpd)
command -v rclone >/dev/null || need+=(rclone)
command -v jq >/dev/null || need+=(jq)
command -v python3 >/dev/null || need+=(python3)
[ -x /usr/bin/time ] || need+=(time)
install_needed "${need[@]}"

mkdir -p "$OUT" "$BENCH_DIR/empty"
chmod 755 "$BENCH_DIR" "$BENCH_DIR/empty"

# --- tree ----------------------------------------------------------------------
"$HERE/mktree.sh" "$TREE" "$DIRS" "$FILES"
EXPECTED=$((DIRS + FILES))

# --- ftpaudit binary -------------------------------------------------------------
if [ -z "${FTPAUDIT:-}" ]; then
	FTPAUDIT=/tmp/ftpaudit-bench
	log "building $FTPAUDIT"
	(cd "$REPO" && go build -o "$FTPAUDIT" ./cmd/ftpaudit) || die "go build ./cmd/ftpaudit failed"
fi
[ -x "$FTPAUDIT" ] || die "$FTPAUDIT is not executable"
# Go's flag package prints "-connections" and accepts "--connections" too.
# (Read whole first: grep -q would stop reading and, under pipefail, fail the
# pipeline with the writer's SIGPIPE.)
help=$("$FTPAUDIT" scan --help 2>&1 || true)
grep -qE -- '(^|[[:space:]])--?connections' <<<"$help" ||
	die "$FTPAUDIT scan --help does not mention --connections"

# --- vsftpd ----------------------------------------------------------------------
if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
	die "something already listens on $HOST:$PORT; stop it first"
fi
VSPID=
cleanup() {
	if [ -n "$VSPID" ] && kill -0 "$VSPID" 2>/dev/null; then
		kill "$VSPID" 2>/dev/null || true
		wait "$VSPID" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
case $SERVER in
vsftpd | vsftpd-r)
	CONF=$BENCH_DIR/vsftpd.conf
	sed -e "s#@ANON_ROOT@#$TREE#g" -e "s#@EMPTY_DIR@#$BENCH_DIR/empty#g" \
		"$HERE/vsftpd-bench.conf.in" >"$CONF"
	[ "$SERVER" = vsftpd-r ] && echo "ls_recurse_enable=YES" >>"$CONF"
	chmod 600 "$CONF"
	vsftpd "$CONF" >"$OUT/server.log" 2>&1 &
	VSPID=$!
	;;
proftpd)
	[ -x "$PROFTPD_PREFIX/usr/sbin/proftpd" ] || die "no proftpd in $PROFTPD_PREFIX: run testdata/realservers/setup.sh once"
	CONF=$BENCH_DIR/proftpd.conf
	sed -e "s#@ANON_ROOT@#$TREE#g" -e "s#@RUN_DIR@#$BENCH_DIR#g" "$HERE/proftpd-bench.conf.in" >"$CONF"
	LD_LIBRARY_PATH=$PROFTPD_PREFIX/usr/lib/x86_64-linux-gnu \
		"$PROFTPD_PREFIX/usr/sbin/proftpd" -n -q -c "$CONF" >"$OUT/server.log" 2>&1 &
	VSPID=$!
	;;
*) die "SERVER=$SERVER: want vsftpd, vsftpd-r or proftpd" ;;
esac
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null && break
	kill -0 "$VSPID" 2>/dev/null || die "$SERVER exited: $(cat "$OUT/server.log")"
	sleep 0.1
done
(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null || die "$SERVER does not listen on $HOST:$PORT"
log "$SERVER pid $VSPID on $HOST:$PORT serving $TREE"

# --- runners ---------------------------------------------------------------------
RCONF=$OUT/rclone.conf
: >"$RCONF"
RPASS=$(rclone --config "$RCONF" obscure anonymous)
REMOTE=":ftp,host=$HOST,port=$PORT,user=anonymous,pass=$RPASS:/"

# discard TAG FILE: drop a counted output unless KEEP=1 or it is a warm-up's.
discard() {
	case "${KEEP:-0}:$1" in 1:* | *:warmup*) ;; *) rm -f "$2" ;; esac
}

# timing TAG -> "WALL_S MAXRSS_KB CPU_S" from /usr/bin/time's last line.
timing() {
	tail -n 1 "$OUT/$1.time" | awk '{ printf "%s %s %.2f", $1, $2, $3 + $4 }'
}

# run_rclone N TAG -> prints "WALL_S MAXRSS_KB CPU_S COUNT" or "FAIL"
run_rclone() {
	local n=$1 tag=$2 rc=0
	/usr/bin/time -f '%e %M %U %S' -o "$OUT/$tag.time" \
		timeout "$RUN_TIMEOUT" rclone --config "$RCONF" -q lsf -R \
		--checkers "$n" --ftp-concurrency "$n" "$REMOTE" \
		>"$OUT/$tag.lsf" 2>"$OUT/$tag.err" || rc=$?
	if [ "$rc" != 0 ]; then
		log "rclone ($tag) exited $rc:"; tail -n 20 "$OUT/$tag.err" >&2
		echo FAIL; return
	fi
	echo "$(timing "$tag") $(wc -l <"$OUT/$tag.lsf")"
	discard "$tag" "$OUT/$tag.lsf"
}

# run_ftpaudit N TAG -> prints "WALL_S MAXRSS_KB CPU_S COUNT" or "FAIL"
run_ftpaudit() {
	local n=$1 tag=$2 rc=0 count
	rm -f "$OUT/$tag.json"
	/usr/bin/time -f '%e %M %U %S' -o "$OUT/$tag.time" \
		timeout "$RUN_TIMEOUT" "$FTPAUDIT" scan --connections "$n" --format json $FLAGS \
		-o "$OUT/$tag.json" --quiet "ftp://$HOST:$PORT/" \
		>"$OUT/$tag.out" 2>"$OUT/$tag.err" || rc=$?
	if ! count=$(jq -e '.hosts[0].stats | (.dirs // 0) + (.files // 0) + (.links // 0)' \
		"$OUT/$tag.json" 2>>"$OUT/$tag.err"); then
		log "ftpaudit ($tag) exited $rc and left no usable JSON report:"
		tail -n 20 "$OUT/$tag.out" "$OUT/$tag.err" >&2
		echo FAIL; return
	fi
	# A scanner may exit non-zero because it found something; the report is
	# what counts, but say so.
	[ "$rc" = 0 ] || log "note: ftpaudit ($tag) exited $rc (report written)"
	echo "$(timing "$tag") $count"
	discard "$tag" "$OUT/$tag.json"
}


{
	echo "ftpaudit walk benchmark $STAMP"
	echo "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
	echo "tree: $TREE, $DIRS dirs + $FILES files = $EXPECTED entries"
	echo "server: $SERVER (vsftpd $(dpkg-query -W -f '${Version}' vsftpd 2>/dev/null || echo '?')); ftpaudit flags: ${FLAGS:-none}; rclone: $(rclone --config "$RCONF" version 2>/dev/null | head -n 1)"
	echo "ftpaudit: $FTPAUDIT (repo $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo 'no commit'))"
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "runs: $RUNS per tool per connection count, alternating rclone/ftpaudit, after $WARMUP warm-up run(s)"
} | tee "$OUT/header.txt" >&2

maxconn=$(printf '%s\n' $CONNS | sort -n | tail -n 1)
for w in $(seq 1 "$WARMUP"); do
	log "warm-up $w at $maxconn connections"
	r=$(run_rclone "$maxconn" "warmup$w-rclone") ; log "  rclone:   $r"
	f=$(run_ftpaudit "$maxconn" "warmup$w-ftpaudit") ; log "  ftpaudit: $f"
	[ "$f" != FAIL ] || die "ftpaudit fails against the bench server; see $OUT/warmup$w-ftpaudit.*"
done

bad=0
ROWS=()
for n in $CONNS; do
	: >"$OUT/rclone-n$n.dat"
	: >"$OUT/ftpaudit-n$n.dat"
	for i in $(seq 1 "$RUNS"); do
		wait_quiet "${QUIET_WAIT:-120}"
		r=$(run_rclone "$n" "rclone-n$n-r$i")
		wait_quiet "${QUIET_WAIT:-120}"
		f=$(run_ftpaudit "$n" "ftpaudit-n$n-r$i")
		log "conns=$n run=$i rclone: $r | ftpaudit: $f  (wall s, max RSS KB, CPU s, entries)"
		[ "$r" = FAIL ] && bad=1 || echo "$r" >>"$OUT/rclone-n$n.dat"
		[ "$f" = FAIL ] && bad=1 || echo "$f" >>"$OUT/ftpaudit-n$n.dat"
	done
	rmed=$(cut -d' ' -f1 "$OUT/rclone-n$n.dat" | median)
	fmed=$(cut -d' ' -f1 "$OUT/ftpaudit-n$n.dat" | median)
	rrss=$(cut -d' ' -f2 "$OUT/rclone-n$n.dat" | maxof)
	frss=$(cut -d' ' -f2 "$OUT/ftpaudit-n$n.dat" | maxof)
	rcpu=$(cut -d' ' -f3 "$OUT/rclone-n$n.dat" | median)
	fcpu=$(cut -d' ' -f3 "$OUT/ftpaudit-n$n.dat" | median)
	rcnt=$(cut -d' ' -f4 "$OUT/rclone-n$n.dat" | sort -u | paste -sd/ -)
	fcnt=$(cut -d' ' -f4 "$OUT/ftpaudit-n$n.dat" | sort -u | paste -sd/ -)
	ratio=n/a
	if [ "$rmed" != n/a ] && [ "$fmed" != n/a ]; then
		ratio=$(awk -v f="$fmed" -v r="$rmed" 'BEGIN { if (r > 0) printf "%.2f", f / r; else print "n/a" }')
	fi
	mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || echo n/a; }
	counts="rclone ${rcnt:-n/a}, ftpaudit ${fcnt:-n/a}, tree $EXPECTED"
	if [ "$rcnt" != "$EXPECTED" ] || [ "$fcnt" != "$EXPECTED" ]; then
		counts="**MISMATCH** $counts"
		bad=1
	fi
	ROWS+=("| $n | $rmed | $fmed | $ratio | $(mb "$frss") | $(mb "$rrss") | $counts | $rcpu | $fcpu |")
done

{
	echo
	echo "| connections | rclone median s | ftpaudit median s | ftpaudit/rclone | ftpaudit peak RSS MB | rclone peak RSS MB | entries | rclone median CPU s | ftpaudit median CPU s |"
	echo "|---:|---:|---:|---:|---:|---:|---|---:|---:|"
	printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/results.md"
log "raw results in $OUT"
if [ "$bad" != 0 ]; then
	log "FAILED: a run failed or entry counts disagree"
	exit 1
fi
