#!/usr/bin/env bash
# floorbench.sh — time a full `ftpaudit scan` against the protocol floor:
# testdata/bench/floor, a client that does only the listing commands
# ftpaudit's walk does on the server (STAT -a per directory on vsftpd;
# LIST -aR per subtree on proftpd), over the same number of connections,
# and parses nothing but the subdirectories' names. Both run on a
# synthetic archive (mktree.sh) served on 127.0.0.1:2131, in one session,
# round robin (floor, ftpaudit, floor, ftpaudit, ...), so that the shared
# machine's drift falls on all alike. Prints a table of medians and the
# ratio ftpaudit / floor, for the whole scan and for its walk alone (the
# host's scan duration in ftpaudit's --metrics-file: login to the last
# listing, without the judging and the report after it). See
# docs/benchmarks.md.
#
#   bash testdata/bench/floorbench.sh                                  # vsftpd, 105,000 entries
#   SERVER=proftpd bash testdata/bench/floorbench.sh
#   DIRS=50000 FILES=1000000 RUNS=7 bash testdata/bench/floorbench.sh  # 1,050,000 entries
#   FTPAUDIT="/tmp/fa-before /tmp/fa-after" bash testdata/bench/floorbench.sh
#
# Environment (all optional):
#   SERVER       vsftpd (default; STAT per directory) or proftpd (LIST -aR
#                per subtree; needs testdata/realservers/setup.sh run once)
#   BENCH_DIR    tree, configs, results (/var/lib/ftpaudit-bench)
#   DIRS FILES   tree size (5000 100000); the tree is $BENCH_DIR/tree for
#                the default size (walkbench.sh's), else
#                $BENCH_DIR/tree-DIRSxFILES
#   CONNS        connections (8, ftpaudit's default)
#   RUNS         timed runs of each command (15)
#   WARMUP       untimed runs of each command first (2)
#   FTPAUDIT     ftpaudit binaries, separated by spaces (default: built
#                from this checkout into /tmp/ftpaudit-floorbench)
#   FLOORS       floor variants, separated by spaces, each a set of floor
#                flags joined by commas; "-" is the plain floor, the one
#                ratios are taken against (default: "- -rest,-cwd
#                -rest,-cwd,-batch,8" on
#                vsftpd, "- -cwd" on proftpd: the second the floor with
#                ftpaudit's own guards, the REST sentinel after each STAT,
#                and paths that are not plain listed with CWD, PWD and
#                STAT -a . in one write, never recursively; on vsftpd a
#                third, those guards with ftpaudit's batches of up to eight
#                STATs behind one sentinel: "-rest,-cwd,-batch,8")
#   HYPERFINE    1: afterwards, also time every command with
#                `hyperfine -N -w WARMUP -r RUNS` (not interleaved) (0)
#   QUIET_WAIT   before each round, wait up to this many seconds for the
#                CPUs to be under 15% busy (0: don't; lib.sh's wait_quiet)
#   RUN_TIMEOUT  seconds before one run is killed (1800)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/lib/ftpaudit-bench}
SERVER=${SERVER:-vsftpd}
DIRS=${DIRS:-5000}
FILES=${FILES:-100000}
CONNS=${CONNS:-8}
RUNS=${RUNS:-15}
WARMUP=${WARMUP:-2}
HYPERFINE=${HYPERFINE:-0}
QUIET_WAIT=${QUIET_WAIT:-0}
RUN_TIMEOUT=${RUN_TIMEOUT:-1800}
HOST=127.0.0.1
PORT=2131 # fixed in vsftpd-bench.conf.in and proftpd-bench.conf.in
PROFTPD_PREFIX=${FTPAUDIT_SERVERS_PREFIX:-/opt/ftpaudit-servers}/proftpd
if [ "$DIRS/$FILES" = 5000/100000 ]; then
	TREE=$BENCH_DIR/tree
else
	TREE=$BENCH_DIR/tree-${DIRS}x$FILES
fi
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$BENCH_DIR/results/floor-$STAMP
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin

log() { echo "floorbench: $*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=lib.sh
. "$HERE/lib.sh"

need=()
command -v jq >/dev/null || need+=(jq)
command -v python3 >/dev/null || need+=(python3)
[ -x /usr/bin/time ] || need+=(time)
[ "$SERVER" != vsftpd ] || command -v vsftpd >/dev/null || need+=(vsftpd)
[ "$HYPERFINE" != 1 ] || command -v hyperfine >/dev/null || need+=(hyperfine)
install_needed "${need[@]}"

case $SERVER in
vsftpd) MODE=stat; FLOORS=${FLOORS:-"- -rest,-cwd -rest,-cwd,-batch,8"} ;;
proftpd) MODE=tree; FLOORS=${FLOORS:-"- -cwd"} ;;
*) die "SERVER=$SERVER: want vsftpd or proftpd" ;;
esac

mkdir -p "$OUT" "$BENCH_DIR/empty"
chmod 755 "$BENCH_DIR" "$BENCH_DIR/empty"
"$HERE/mktree.sh" "$TREE" "$DIRS" "$FILES"
EXPECTED=$((DIRS + FILES))

# --- binaries --------------------------------------------------------------------
FLOOR=/tmp/ftpaudit-floor
(cd "$REPO" && go build -o "$FLOOR" ./testdata/bench/floor) || die "go build ./testdata/bench/floor failed"
if [ -z "${FTPAUDIT:-}" ]; then
	FTPAUDIT=/tmp/ftpaudit-floorbench
	(cd "$REPO" && go build -o "$FTPAUDIT" ./cmd/ftpaudit) || die "go build ./cmd/ftpaudit failed"
fi
read -r -a BINS <<<"$FTPAUDIT"
for b in "${BINS[@]}"; do [ -x "$b" ] || die "$b is not executable"; done

# --- server ----------------------------------------------------------------------
if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
	die "something already listens on $HOST:$PORT; stop it first"
fi
SPID=
cleanup() {
	if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
		kill "$SPID" 2>/dev/null || true
		wait "$SPID" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
case $SERVER in
vsftpd)
	CONF=$OUT/vsftpd.conf
	sed -e "s#@ANON_ROOT@#$TREE#g" -e "s#@EMPTY_DIR@#$BENCH_DIR/empty#g" \
		"$HERE/vsftpd-bench.conf.in" >"$CONF"
	chmod 600 "$CONF"
	vsftpd "$CONF" >"$OUT/server.log" 2>&1 &
	SPID=$!
	;;
proftpd)
	[ -x "$PROFTPD_PREFIX/usr/sbin/proftpd" ] || die "no proftpd in $PROFTPD_PREFIX: run testdata/realservers/setup.sh once"
	CONF=$OUT/proftpd.conf
	sed -e "s#@ANON_ROOT@#$TREE#g" -e "s#@RUN_DIR@#$BENCH_DIR#g" "$HERE/proftpd-bench.conf.in" >"$CONF"
	LD_LIBRARY_PATH=$PROFTPD_PREFIX/usr/lib/x86_64-linux-gnu \
		"$PROFTPD_PREFIX/usr/sbin/proftpd" -n -q -c "$CONF" >"$OUT/server.log" 2>&1 &
	SPID=$!
	;;
esac
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null && break
	kill -0 "$SPID" 2>/dev/null || die "$SERVER exited: $(cat "$OUT/server.log")"
	sleep 0.1
done
(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null || die "$SERVER does not listen on $HOST:$PORT"
log "$SERVER pid $SPID on $HOST:$PORT serving $TREE ($EXPECTED entries)"

# --- commands --------------------------------------------------------------------
# NAMES[i] is a column's name, CMDS[i] its command line, KINDS[i] floor or ftpaudit.
NAMES=() CMDS=() KINDS=()
for v in $FLOORS; do
	flags=${v//,/ }
	[ "$v" = - ] && flags=
	NAMES+=("floor${flags:+ $flags}")
	CMDS+=("$FLOOR -addr $HOST:$PORT -conns $CONNS -mode $MODE $flags")
	KINDS+=(floor)
done
for b in "${BINS[@]}"; do
	NAMES+=("$b")
	CMDS+=("$b scan --connections $CONNS --format json -o $OUT/scan.json --metrics-file $OUT/scan.prom --quiet ftp://$HOST:$PORT/")
	KINDS+=(ftpaudit)
done

# run I TAG -> "WALL_S CPU_S MAXRSS_KB ENTRIES WALK_S" or FAIL. WALK_S is
# the walk alone: for ftpaudit, the host's scan duration in its metrics
# (login to the last listing: without the judging and the report after
# it); for a floor, which does nothing else, its wall time.
run() {
	local i=$1 tag=$2 rc=0 n walk
	rm -f "$OUT/scan.json" "$OUT/scan.prom"
	# shellcheck disable=SC2086
	/usr/bin/time -f '%e %U %S %M' -o "$OUT/time" timeout "$RUN_TIMEOUT" ${CMDS[$i]} \
		>"$OUT/$tag.out" 2>"$OUT/$tag.err" || rc=$?
	read -r wall user sys rss <"$OUT/time" || true
	case ${KINDS[$i]} in
	floor)
		[ "$rc" = 0 ] || { log "$tag exited $rc: $(tail -n 3 "$OUT/$tag.err")"; echo FAIL; return; }
		n=$(sed -n 's/.*: \([0-9]*\) entries,.*/\1/p' "$OUT/$tag.err")
		walk=$wall
		;;
	ftpaudit)
		n=$(jq -e '.hosts[0] | select(.complete) | .stats | (.dirs // 0) + (.files // 0) + (.links // 0)' "$OUT/scan.json" 2>/dev/null) ||
			{ log "$tag exited $rc, no complete report: $(tail -n 3 "$OUT/$tag.err")"; echo FAIL; return; }
		walk=$(awk '$1 ~ /^ftpaudit_scan_duration_seconds[{]/ { printf "%.2f", $2 }' "$OUT/scan.prom" 2>/dev/null)
		[ -n "$walk" ] || { log "$tag: no ftpaudit_scan_duration_seconds in its metrics"; echo FAIL; return; }
		;;
	esac
	awk -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" -v n="$n" -v k="$walk" 'BEGIN { printf "%s %.2f %s %s %s\n", w, u + s, r, n, k }'
}

{
	echo "floorbench $STAMP: $SERVER, $TREE ($EXPECTED entries), $CONNS connections"
	echo "host: $(nproc) cores, $(uname -r), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "ftpaudit: ${BINS[*]} (repo $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
	echo "runs: $WARMUP warm-up + $RUNS timed per command, round robin"
} | tee "$OUT/header.txt" >&2

bad=0
for w in $(seq "$WARMUP"); do
	for i in "${!CMDS[@]}"; do
		r=$(run "$i" "warmup$w-$i")
		log "warm-up $w ${NAMES[$i]}: $r"
		[ "$r" != FAIL ] || die "${NAMES[$i]} fails against $SERVER"
	done
done
for i in "${!CMDS[@]}"; do : >"$OUT/cmd$i.dat"; done
for k in $(seq "$RUNS"); do
	wait_quiet "$QUIET_WAIT"
	line="run $k:"
	for i in "${!CMDS[@]}"; do
		r=$(run "$i" "run$k-$i")
		if [ "$r" = FAIL ]; then bad=1; else echo "$r" >>"$OUT/cmd$i.dat"; fi
		line="$line [$i] $r |"
	done
	log "$line (wall s, CPU s, peak RSS KB, entries, walk s; [i]: the table's row i+1)"
done

# The first floor variant is the floor the ratios are taken against.
col() { cut -d' ' -f"$2" "$OUT/cmd$1.dat" | median; }
base=$(col 0 1)
{
	echo
	echo "| command | median wall s | min wall s | / floor (medians) | median walk s | walk / floor | median CPU s | peak RSS MB | entries |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
	for i in "${!CMDS[@]}"; do
		wall=$(col "$i" 1)
		min=$(cut -d' ' -f1 "$OUT/cmd$i.dat" | sort -g | head -n 1)
		ratio=$(awk -v a="$wall" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
		rss=$(cut -d' ' -f3 "$OUT/cmd$i.dat" | maxof)
		cnt=$(cut -d' ' -f4 "$OUT/cmd$i.dat" | sort -u | paste -sd/ -)
		[ "$cnt" = "$EXPECTED" ] || { cnt="**MISMATCH** $cnt (tree $EXPECTED)"; bad=1; }
		walk=$(col "$i" 5)
		wratio=$(awk -v a="$walk" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
		echo "| \`${NAMES[$i]}\` | $wall | $min | $ratio | $walk | $wratio | $(col "$i" 2) | $(awk -v k="${rss:-0}" 'BEGIN { printf "%.0f", k / 1024 }') | $cnt |"
	done
} | tee "$OUT/results.md"

if [ "$HYPERFINE" = 1 ]; then
	hf=()
	for i in "${!CMDS[@]}"; do hf+=(-n "${NAMES[$i]}" "${CMDS[$i]}"); done
	hyperfine -N -w "$WARMUP" -r "$RUNS" --export-json "$OUT/hyperfine.json" "${hf[@]}" | tee "$OUT/hyperfine.txt"
	jq -r --arg b "${NAMES[0]}" '(.results[] | select(.command == $b) | .median) as $f |
		.results[] | "hyperfine: \(.command): median \(.median * 1000 | round) ms, \(.median / $f * 100 | round / 100) × floor, user+sys \((.user + .system) * 1000 | round) ms"' \
		"$OUT/hyperfine.json" | tee -a "$OUT/results.md"
fi
log "raw results in $OUT"
[ "$bad" = 0 ] || die "FAILED: a run failed or an entry count is wrong"
