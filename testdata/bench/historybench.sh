#!/usr/bin/env bash
# historybench.sh — what the history costs a nightly scan: the time of a
# save and of --baseline against the walk's, their peak RSS, and the
# database's growth. Each step is one `ftpaudit scan` (run() of
# cmd/ftpaudit, BenchmarkHistoryNight) of a generated archive of N entries
# served by the in-process fault server, in its own process under
# /usr/bin/time -v; night k has 0.1% of the files changed since night k-1.
# See docs/benchmarks.md#history-store.
#
# Steps: walk (night 0, no history), first save (night 0, --save), a
# nightly save (night 1, --save), then on night 2, from copies of the
# database of night 1, RUNS times each: the walk alone, --baseline last
# alone, --save, and --save --baseline last. Besides peak RSS, each row
# gives the peak memory the Go runtime held during the walk and during the
# history work after it (sampled every 10ms): what the history adds shows
# there without the noise of where the walk's own peak fell.
#
# Environment: N (1000000), RUNS (1), WORK (a temporary directory,
# removed unless KEEP=1), TEST_BIN (a test binary of ./cmd/ftpaudit; built
# when unset).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
N=${N:-1000000}
export PATH=$PATH:/usr/local/go/bin
log() { echo "historybench: $*" >&2; }

[ -x /usr/bin/time ] || { log "/usr/bin/time missing (apt-get install time)"; exit 1; }
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
if [ -z "${TEST_BIN:-}" ]; then
	TEST_BIN=$WORK/cmd.test
	(cd "$REPO" && go test -c -o "$TEST_BIN" ./cmd/ftpaudit)
fi

# step NAME NIGHT DB ARGS...: one scan; prints a table row.
# settle: each scan opens a data connection per directory (about N/90 of
# them), whose ports stay in TIME_WAIT for a minute; back to back, the
# scans would exhaust the ephemeral ports (the server answers "425 Cannot
# open a data listener"). Waits up to 90 s for fewer than 5,000.
settle() {
	local i tw
	for i in $(seq 90); do
		tw=$(ss -Htan state time-wait 2>/dev/null | wc -l)
		[ "$tw" -lt 5000 ] && return 0
		[ "$i" = 1 ] && log "waiting for $tw TIME_WAIT sockets to clear"
		sleep 1
	done
}

step() {
	local name=$1 night=$2 db=$3
	shift 3
	settle
	log "$name: night $night, scan $*"
	FTPAUDIT_HB_N=$N FTPAUDIT_HB_NIGHT=$night FTPAUDIT_HB_DB=$db FTPAUDIT_HB_ARGS="$*" \
		/usr/bin/time -v -o "$WORK/$name.time" \
		"$TEST_BIN" -test.run '^$' -test.bench '^BenchmarkHistoryNight$' -test.benchtime 1x >"$WORK/$name.out" 2>"$WORK/$name.err" ||
		{ cat "$WORK/$name.out" "$WORK/$name.err" >&2; exit 1; }
	local rss
	rss=$(awk -F': ' '/Maximum resident set size/ {print int($2 / 1024)}' "$WORK/$name.time")
	metric() { awk -v m="$1" '/^BenchmarkHistoryNight/ { for (i = 3; i < NF; i += 2) if ($(i + 1) == m) print $i }' "$WORK/$name.out"; }
	local size=- mem
	[ -f "$db" ] && size=$(du -b "$db" | awk '{printf "%.1f MB", $1 / 1048576}')
	mem=$(printf '%.0f MB' "$(metric go-mem-before-history-MB)")
	[ $# -gt 0 ] && mem=$(printf '%.0f → %.0f MB' "$(metric go-mem-before-history-MB)" "$(metric go-mem-history-MB)")
	printf '| %s | %s | %s | %.1f | %.2f | %.2f | %.1f%% | %s | %s MB | %s | %s |\n' "${name%%.*}" "$night" "${*:--}" \
		"$(metric walk-s)" "$(metric compare-s)" "$(metric save-s)" "$(metric save-%walk)" "$(metric changes)" "$rss" "$mem" "$size"
}

echo "N=$N entries; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
echo
echo '| step | night | flags | walk s | history before the save s | save s | save/walk | changes | peak RSS | Go memory: walk → history | database |'
echo '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|'
step walk 0 "$WORK/none.db"
step first-save 0 "$WORK/h.db" --save
step nightly-save 1 "$WORK/h.db" --save
# Night 2, RUNS times each, from copies of the database of night 1.
for r in $(seq "${RUNS:-1}"); do
	step "walk.$r" 2 "$WORK/none.db"
	cp "$WORK/h.db" "$WORK/b.db"
	step "baseline.$r" 2 "$WORK/b.db" --baseline last
	step "nightly-save.$r" 2 "$WORK/b.db" --save
	cp "$WORK/h.db" "$WORK/b.db"
	step "save+baseline.$r" 2 "$WORK/b.db" --save --baseline last
done
