#!/usr/bin/env bash
# hugedir.sh — wall time and peak memory of a full `ftpaudit scan` of one
# directory holding N files (default 1,000,000), served by vsftpd on
# 127.0.0.1:$PORT. Prints wall time, peak RSS and the entry count of each
# run, and fails if a scan is not complete or misses an entry. See
# docs/benchmarks.md.
#
# Environment: BENCH_DIR (/var/lib/ftpaudit-bench), N (1000000), PORT
# (2132; passive ports PORT*15+2000 .. +99), FTPAUDIT (one binary, or
# several separated by spaces to compare them; built from this checkout
# when unset), ARGS (extra scan flags), MODES (walk), RUNS (1).
#
# MODES lists what each run scans with, each written to a file with -o:
#   walk       --format json                (the report without the entries)
#   inventory  --format json --inventory    (every entry in the document)
#   jsonl      --format jsonl --inventory
# Runs go round robin (run 1 of every binary and mode, then run 2, ...), so
# that a shared machine's drift falls on all alike; with RUNS above 1 a
# table of medians (wall, peak RSS, CPU seconds, peak RSS per entry) ends
# the output. "after walk" is the time from the scan's "host done" log
# line (walk and judging over) to the process's exit: the report, mostly,
# and unlike the whole run's wall time hardly disturbed by the server
# (vsftpd spends more CPU listing the directory than ftpaudit does).
#
#   N=1000000 bash testdata/bench/hugedir.sh
#   FTPAUDIT="/tmp/old /tmp/new" MODES="walk inventory jsonl" RUNS=3 bash testdata/bench/hugedir.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/lib/ftpaudit-bench}
N=${N:-1000000}
PORT=${PORT:-2132}
MODES=${MODES:-walk}
RUNS=${RUNS:-1}
ROOT=$BENCH_DIR/huge-$N
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
log() { echo "hugedir: $*" >&2; }
die() { log "$*"; exit 1; }
# shellcheck source=lib.sh
. "$HERE/lib.sh"

command -v vsftpd >/dev/null || die "vsftpd missing (run walkbench.sh once, or apt-get install vsftpd)"
for m in $MODES; do
	case $m in walk | inventory | jsonl) ;; *) die "unknown mode $m (want walk, inventory or jsonl)" ;; esac
done
mkdir -p "$BENCH_DIR/empty"
if [ ! -f "$ROOT.done" ]; then
	log "creating $N files in $ROOT/big"
	rm -rf "$ROOT" && mkdir -p "$ROOT/big"
	python3 - "$ROOT/big" "$N" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    os.close(os.open(os.path.join(d, "file-%07d.tar.gz" % i), os.O_CREAT | os.O_WRONLY, 0o644))
PY
	touch "$ROOT.done"
fi
chmod 755 "$ROOT" "$ROOT/big"
if [ -z "${FTPAUDIT:-}" ]; then
	FTPAUDIT=/tmp/ftpaudit-hugedir
	(cd "$REPO" && go build -o "$FTPAUDIT" ./cmd/ftpaudit)
fi
read -r -a BINS <<<"$FTPAUDIT"
PASV=$((PORT * 15 + 2000))
CONF=$(mktemp)
OUT=$(mktemp -d)
sed -e "s#@ANON_ROOT@#$ROOT#g" -e "s#@EMPTY_DIR@#$BENCH_DIR/empty#g" \
	-e "s#^listen_port=.*#listen_port=$PORT#" -e "s#^pasv_min_port=.*#pasv_min_port=$PASV#" -e "s#^pasv_max_port=.*#pasv_max_port=$((PASV + 99))#" \
	"$HERE/vsftpd-bench.conf.in" >"$CONF"
vsftpd "$CONF" >/dev/null 2>&1 &
VSPID=$!
trap 'kill $VSPID 2>/dev/null || true; rm -rf "$CONF" "$OUT"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

# hostfield FILE FORMAT FIELD: the first host's FIELD (a jq path below the
# host) in a report, read without loading an inventory of a million entries.
hostfield() {
	case $2 in
	jsonl) jq -c "select(.type == \"host\") | .$3" "$1" | head -n 1 ;;
	*) jq -n --stream "first(inputs | select(length == 2 and .[0] == ([\"hosts\", 0] + (\"$3\" | split(\".\")))) | .[1])" "$1" ;;
	esac
}

fail=0
echo "binary mode run wall_s peak_rss_kb cpu_s report_bytes after_walk_s" >"$OUT/runs"
for run in $(seq "$RUNS"); do
	for bin in "${BINS[@]}"; do
		for mode in $MODES; do
			case $mode in
			walk) flags=(--format json) ;;
			inventory) flags=(--format json --inventory) ;;
			jsonl) flags=(--format jsonl --inventory) ;;
			esac
			format=${flags[1]}
			# shellcheck disable=SC2086
			/usr/bin/time -f '%e %M %U %S' -o "$OUT/time" "$bin" scan --quiet --log-format json --log-level info "${flags[@]}" -o "$OUT/scan" ${ARGS:-} "ftp://127.0.0.1:$PORT/" 2>"$OUT/stderr" || true
			end=$(date +%s.%N)
			read -r wall rss user sys <"$OUT/time"
			done_at=$(jq -r 'select(.msg == "host done") | .time' "$OUT/stderr" | head -n 1)
			after=n/a
			[ -n "$done_at" ] && after=$(awk -v e="$end" -v d="$(date -d "$done_at" +%s.%N)" 'BEGIN { printf "%.2fs", e - d }')
			files=$(hostfield "$OUT/scan" "$format" stats.files || true)
			complete=$(hostfield "$OUT/scan" "$format" complete || true)
			cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
			size=$(stat -c %s "$OUT/scan" 2>/dev/null || echo 0)
			entries=
			if [ "$mode" = inventory ]; then
				# Each entry has one raw field, at depth 3; nothing else does.
				entries=$(grep -c '^      "raw": ' "$OUT/scan" || true)
			fi
			echo "$bin $mode: entries in the directory: $N; files reported: $files;${entries:+ inventory entries: $entries;} complete: $complete; wall ${wall}s (after walk ${after}); peak RSS $((rss / 1024)) MB; CPU ${cpu}s; report $((size / 1024 / 1024)) MB"
			echo "$bin $mode $run $wall $rss $cpu $size ${after%s}" >>"$OUT/runs"
			if [ "$files" != "$N" ] || [ "$complete" != true ] || { [ -n "$entries" ] && [ "$entries" != $((N + 1)) ]; }; then
				log "$bin $mode run $run: incomplete or wrong count"
				fail=1
			fi
			rm -f "$OUT/scan" "$OUT/stderr"
		done
	done
done

if [ "$RUNS" -gt 1 ]; then
	echo
	echo "Medians of $RUNS runs, N=$N:"
	echo
	echo "| binary | mode | wall s | after walk s | peak RSS MB | CPU s | peak RSS per entry | report MB |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	for bin in "${BINS[@]}"; do
		for mode in $MODES; do
			col() { awk -v b="$bin" -v m="$mode" -v c="$1" '$1 == b && $2 == m { print $c }' "$OUT/runs" | median; }
			rss=$(col 5)
			echo "| $bin | $mode | $(col 4) | $(col 8) | $((${rss%.*} / 1024)) | $(col 6) | $((${rss%.*} * 1024 / (N + 1))) B | $(col 7 | awk '{ printf "%.0f", $1 / 1048576 }') |"
		done
	done
fi
exit "$fail"
