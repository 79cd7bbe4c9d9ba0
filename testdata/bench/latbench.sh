#!/usr/bin/env bash
# latbench.sh — time a full `ftpaudit scan` (and `rclone lsf -R`) through a
# simulated network round-trip time, on a synthetic archive served by vsftpd.
#
# There is no netem here: cmd/ftprelay (internal/ftprelay) sits between the
# clients and vsftpd on 127.0.0.1 and delays every byte by RTT/2 each way and
# every new connection (control or passive data) by one RTT. For each RTT,
# listing mode and connection count it runs
#   ftpaudit scan --quiet --format json -o FILE --connections N [--no-stat] $FLAGS ftp://RELAY/
#   rclone lsf -R --checkers N --ftp-concurrency N :ftp,host=RELAY...:/
# and prints a Markdown table: wall time, directories listed (ftpaudit:
# .hosts[0].stats.listed; rclone: lines ending in "/" plus the root), dirs/s,
# the bound N/(3·RTT) dirs/s of a walker that spends three round trips per
# directory (PASV, connect, LIST) on each of N connections, and the ratio.
#
#   testdata/bench/latbench.sh                         # defaults below
#   RTTS="50" CONNS="16" MODES=nostat testdata/bench/latbench.sh
#   DIRS=5000 FILES=100000 MAX_EST=0 testdata/bench/latbench.sh   # big tree, no skips
#   FLAGS="--no-recursive-list" testdata/bench/latbench.sh        # extra ftpaudit flags
#
# Environment (all optional):
#   BENCH_DIR    tree, config and results (/var/lib/ftpaudit-latbench)
#   DIRS FILES   tree size (500 10000); built with mktree.sh
#   RTTS         simulated round-trip times in ms ("0 10 50")
#   CONNS        connection counts ("1 8 16")
#   SERVER       vsftpd (default; LIST -R refused) or vsftpd-r (vsftpd with
#                ls_recurse_enable=YES, so that ftpaudit lists subtrees in one
#                transfer)
#   MODES        ftpaudit listing modes: stat (the defaults: STAT -a over the
#                control connection for vsftpd, recursive listing where the
#                server allows it), nostat (--no-stat: data connections),
#                perdir (--no-stat --no-recursive-list: a data connection per
#                directory, every directory on its own) ("stat nostat")
#   FLAGS        extra ftpaudit scan flags ("")
#   RCLONE       1 to also run rclone through the relay, 0 not to (1)
#   RUNS         timed runs per case; the median wall time is reported (1)
#   MAX_EST      skip a case whose estimate DIRS×3×RTT/N exceeds this many
#                seconds (60; 0: run everything). At the defaults this skips
#                only 1 connection at 50 ms.
#   PORT         vsftpd's port (2141); passive ports PASV_MIN..PASV_MIN+999 (32000)
#   FTPAUDIT FTPRELAY  binaries to use instead of building them
#   RUN_TIMEOUT  seconds before one run is killed (1800)
#   QUIET_WAIT   before each timed run, wait up to this many seconds for the
#                CPUs to be under 15% busy (30; 0 disables)
#   NO_INSTALL   set to 1 to skip apt-get
#
# Output: the table on stdout (also results.md), one TSV line per case in
# results.tsv, and each run's report/listing/stderr in
# $BENCH_DIR/results/<UTC timestamp>/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/lib/ftpaudit-latbench}
DIRS=${DIRS:-500}
FILES=${FILES:-10000}
RTTS=${RTTS:-"0 10 50"}
CONNS=${CONNS:-"1 8 16"}
MODES=${MODES:-"stat nostat"}
SERVER=${SERVER:-vsftpd}
case $SERVER in vsftpd | vsftpd-r) ;; *) echo "latbench: SERVER=$SERVER: want vsftpd or vsftpd-r" >&2; exit 1 ;; esac
FLAGS=${FLAGS:-}
RCLONE=${RCLONE:-1}
RUNS=${RUNS:-1}
MAX_EST=${MAX_EST:-60}
RUN_TIMEOUT=${RUN_TIMEOUT:-1800}
HOST=127.0.0.1
PORT=${PORT:-2141}
PASV_MIN=${PASV_MIN:-32000}
TREE=$BENCH_DIR/tree
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=$BENCH_DIR/results/$STAMP
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin

log() { echo "latbench: $*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=lib.sh
. "$HERE/lib.sh"

for m in $MODES; do
	case $m in stat | nostat | perdir) ;; *) die "MODES: unknown mode $m (stat, nostat, perdir)" ;; esac
done

# --- tools ---------------------------------------------------------------------
need=()
command -v vsftpd >/dev/null || need+=(vsftpd)
[ "$RCLONE" = 1 ] && ! command -v rclone >/dev/null && need+=(rclone)
command -v jq >/dev/null || need+=(jq)
command -v python3 >/dev/null || need+=(python3)
[ -x /usr/bin/time ] || need+=(time)
install_needed "${need[@]}"

mkdir -p "$OUT" "$BENCH_DIR/empty"
chmod 755 "$BENCH_DIR" "$BENCH_DIR/empty"

# --- tree ----------------------------------------------------------------------
"$HERE/mktree.sh" "$TREE" "$DIRS" "$FILES"
EXPECTED=$((DIRS + FILES))

# --- binaries --------------------------------------------------------------------
if [ -z "${FTPAUDIT:-}" ]; then
	FTPAUDIT=/tmp/ftpaudit-latbench
	log "building $FTPAUDIT"
	(cd "$REPO" && go build -o "$FTPAUDIT" ./cmd/ftpaudit) || die "go build ./cmd/ftpaudit failed"
fi
if [ -z "${FTPRELAY:-}" ]; then
	FTPRELAY=/tmp/ftprelay-latbench
	log "building $FTPRELAY"
	(cd "$REPO" && go build -o "$FTPRELAY" ./cmd/ftprelay) || die "go build ./cmd/ftprelay failed"
fi
[ -x "$FTPAUDIT" ] || die "$FTPAUDIT is not executable"
[ -x "$FTPRELAY" ] || die "$FTPRELAY is not executable"
help=$("$FTPAUDIT" scan --help 2>&1 || true)
grep -qE -- '(^|[[:space:]])--?connections' <<<"$help" || die "$FTPAUDIT scan --help does not mention --connections"
case " $MODES " in *" nostat "*)
	grep -qE -- '(^|[[:space:]])--?no-stat' <<<"$help" || die "$FTPAUDIT scan --help does not mention --no-stat" ;;
esac

# --- vsftpd (own port and passive range, so walkbench.sh can run beside) --------
if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
	die "something already listens on $HOST:$PORT; stop it or set PORT"
fi
CONF=$BENCH_DIR/vsftpd.conf
sed -e "s#@ANON_ROOT@#$TREE#g" -e "s#@EMPTY_DIR@#$BENCH_DIR/empty#g" \
	-e "s#^listen_port=.*#listen_port=$PORT#" \
	-e "s#^pasv_min_port=.*#pasv_min_port=$PASV_MIN#" \
	-e "s#^pasv_max_port=.*#pasv_max_port=$((PASV_MIN + 999))#" \
	"$HERE/vsftpd-bench.conf.in" >"$CONF"
[ "$SERVER" = vsftpd-r ] && echo "ls_recurse_enable=YES" >>"$CONF"
chmod 600 "$CONF"
VSPID=
RELAYPID=
stop_pid() {
	if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
		kill "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
}
cleanup() {
	stop_pid "$RELAYPID"
	stop_pid "$VSPID"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
vsftpd "$CONF" >"$OUT/vsftpd.log" 2>&1 &
VSPID=$!
for _ in $(seq 50); do
	(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null && break
	kill -0 "$VSPID" 2>/dev/null || die "vsftpd exited: $(cat "$OUT/vsftpd.log")"
	sleep 0.1
done
(exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null || die "vsftpd does not listen on $HOST:$PORT"
log "$SERVER pid $VSPID on $HOST:$PORT serving $TREE"

# start_relay MS: starts ftprelay at MS ms and sets RELAYPID and RADDR.
start_relay() {
	local ms=$1 f="$OUT/relay-${1}ms.addr"
	stop_pid "$RELAYPID"
	: >"$f"
	"$FTPRELAY" -v -upstream "$HOST:$PORT" -rtt "${ms}ms" -listen "$HOST:0" \
		>"$f" 2>"$OUT/relay-${ms}ms.log" &
	RELAYPID=$!
	for _ in $(seq 100); do
		[ -s "$f" ] && break
		kill -0 "$RELAYPID" 2>/dev/null || die "ftprelay exited: $(cat "$OUT/relay-${ms}ms.log")"
		sleep 0.05
	done
	RADDR=$(head -n 1 "$f")
	[ -n "$RADDR" ] || die "ftprelay printed no address"
	log "ftprelay pid $RELAYPID on $RADDR, RTT ${ms} ms"
}

# --- runners ---------------------------------------------------------------------
RCONF=$OUT/rclone.conf
: >"$RCONF"
[ "$RCLONE" = 1 ] && RPASS=$(rclone --config "$RCONF" obscure anonymous)

# run_ftpaudit N MODE TAG -> "WALL_S LISTED ENTRIES" or "FAIL"
run_ftpaudit() {
	local n=$1 mode=$2 tag=$3 rc=0 res extra=()
	case $mode in
	nostat) extra+=(--no-stat) ;;
	perdir) extra+=(--no-stat --no-recursive-list) ;;
	esac
	# shellcheck disable=SC2206 # FLAGS is word-split on purpose
	extra+=($FLAGS)
	rm -f "$OUT/$tag.json"
	/usr/bin/time -f '%e' -o "$OUT/$tag.time" \
		timeout "$RUN_TIMEOUT" "$FTPAUDIT" scan --quiet --format json -o "$OUT/$tag.json" \
		--connections "$n" "${extra[@]}" "ftp://$RADDR/" \
		>"$OUT/$tag.out" 2>"$OUT/$tag.err" || rc=$?
	if ! res=$(jq -er '.hosts[0].stats | "\(.listed // 0) \((.dirs // 0) + (.files // 0) + (.links // 0))"' \
		"$OUT/$tag.json" 2>>"$OUT/$tag.err"); then
		log "ftpaudit ($tag) exited $rc and left no usable JSON report:"
		tail -n 20 "$OUT/$tag.out" "$OUT/$tag.err" >&2
		echo FAIL; return
	fi
	[ "$rc" = 0 ] || log "note: ftpaudit ($tag) exited $rc (report written)"
	echo "$(tail -n 1 "$OUT/$tag.time") $res"
}

# run_rclone N TAG -> "WALL_S LISTED ENTRIES" or "FAIL"
run_rclone() {
	local n=$1 tag=$2 rc=0 dirs
	/usr/bin/time -f '%e' -o "$OUT/$tag.time" \
		timeout "$RUN_TIMEOUT" rclone --config "$RCONF" -q lsf -R \
		--checkers "$n" --ftp-concurrency "$n" \
		":ftp,host=$HOST,port=${RADDR##*:},user=anonymous,pass=$RPASS:/" \
		>"$OUT/$tag.lsf" 2>"$OUT/$tag.err" || rc=$?
	if [ "$rc" != 0 ]; then
		log "rclone ($tag) exited $rc:"; tail -n 20 "$OUT/$tag.err" >&2
		echo FAIL; return
	fi
	dirs=$(grep -c '/$' "$OUT/$tag.lsf" || true)
	echo "$(tail -n 1 "$OUT/$tag.time") $((dirs + 1)) $(wc -l <"$OUT/$tag.lsf")"
}


{
	echo "ftpaudit latency benchmark $STAMP"
	echo "host: $(nproc) cores, $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "tree: $TREE, $DIRS dirs + $FILES files = $EXPECTED entries; $SERVER on $HOST:$PORT through ftprelay"
	echo "ftpaudit: $FTPAUDIT (repo $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')), extra flags: ${FLAGS:-none}"
	if [ "$RCLONE" = 1 ]; then echo "rclone: $(rclone --config "$RCONF" version 2>/dev/null | head -n 1)"; fi
	echo "RTTs (ms): $RTTS; connections: $CONNS; modes: $MODES; runs per case: $RUNS"
} | tee "$OUT/header.txt" >&2

printf 'rtt_ms\ttool\tmode\tconns\twall_s\tdirs_listed\tdirs_per_s\tbound_dirs_per_s\tof_bound\tentries\tentries_ok\n' >"$OUT/results.tsv"
ROWS=()
bad=0

# record RTT TOOL MODE N DATFILE: median over the runs, one table row.
record() {
	local ms=$1 tool=$2 mode=$3 n=$4 dat=$5 wall listed entries rate bound of ok
	wall=$(cut -d' ' -f1 "$dat" | median)
	listed=$(cut -d' ' -f2 "$dat" | sort -u | paste -sd/ -)
	entries=$(cut -d' ' -f3 "$dat" | sort -u | paste -sd/ -)
	if [ "$wall" = n/a ]; then
		rate=n/a
	else
		rate=$(awk -v l="${listed%%/*}" -v w="$wall" 'BEGIN { if (w > 0) printf "%.1f", l / w; else print "n/a" }')
	fi
	if [ "$ms" = 0 ]; then
		bound=n/a; of=n/a
	else
		bound=$(awk -v n="$n" -v ms="$ms" 'BEGIN { printf "%.1f", n / (3 * ms / 1000) }')
		of=$(awk -v r="$rate" -v b="$bound" 'BEGIN { if (r + 0 > 0) printf "%.2f", r / b; else print "n/a" }')
	fi
	ok=yes
	if [ "$entries" != "$EXPECTED" ]; then ok=NO; bad=1; fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ms" "$tool" "$mode" "$n" "$wall" "$listed" \
		"$rate" "$bound" "$of" "${entries:-n/a}" "$ok" >>"$OUT/results.tsv"
	ROWS+=("| $ms | $tool | $mode | $n | $wall | $listed | $rate | $bound | $of | ${entries:-n/a}$([ "$ok" = yes ] || echo ' **MISMATCH**') |")
	log "rtt=${ms}ms $tool $mode conns=$n: wall ${wall}s, $listed dirs listed, $rate dirs/s (bound $bound, $of of it), entries $entries"
}

for ms in $RTTS; do
	start_relay "$ms"
	for n in $CONNS; do
		est=$(awk -v d="$DIRS" -v ms="$ms" -v n="$n" 'BEGIN { printf "%d", d * 3 * ms / 1000 / n }')
		if [ "$MAX_EST" -gt 0 ] && [ "$est" -gt "$MAX_EST" ]; then
			log "skipping rtt=${ms}ms conns=$n: estimated ${est}s > MAX_EST=$MAX_EST"
			continue
		fi
		cases=()
		for m in $MODES; do cases+=("ftpaudit:$m"); done
		[ "$RCLONE" = 1 ] && cases+=("rclone:lsf")
		for c in "${cases[@]}"; do
			tool=${c%%:*} mode=${c#*:}
			dat="$OUT/$tool-$mode-${ms}ms-n$n.dat"
			: >"$dat"
			for i in $(seq 1 "$RUNS"); do
				wait_quiet "${QUIET_WAIT:-30}"
				tag="$tool-$mode-${ms}ms-n$n-r$i"
				if [ "$tool" = rclone ]; then r=$(run_rclone "$n" "$tag"); else r=$(run_ftpaudit "$n" "$mode" "$tag"); fi
				if [ "$r" = FAIL ]; then bad=1; else echo "$r" >>"$dat"; fi
			done
			record "$ms" "$tool" "$mode" "$n" "$dat"
		done
	done
done
stop_pid "$RELAYPID"; RELAYPID=

{
	echo
	echo "| RTT ms | tool | mode | connections | wall s | dirs listed | dirs/s | N/(3·RTT) dirs/s | of bound | entries |"
	echo "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|"
	printf '%s\n' "${ROWS[@]}"
} | tee "$OUT/results.md"
log "raw results in $OUT"
if [ "$bad" != 0 ]; then
	log "FAILED: a run failed or entry counts disagree with the tree ($EXPECTED)"
	exit 1
fi
