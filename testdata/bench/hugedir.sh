#!/usr/bin/env bash
# hugedir.sh — peak memory of a full `ftpaudit scan` of one directory holding
# N files (default 1,000,000), served by vsftpd on 127.0.0.1:2132. Prints
# wall time, peak RSS and the entry count, and fails if the scan is not
# complete or misses an entry. See docs/benchmarks.md.
#
# Environment: BENCH_DIR (/var/lib/ftpaudit-bench), N (1000000), FTPAUDIT
# (a binary; built from this checkout when unset), ARGS (extra scan flags).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/lib/ftpaudit-bench}
N=${N:-1000000}
PORT=2132
ROOT=$BENCH_DIR/huge-$N
export PATH=$PATH:/usr/local/go/bin:/usr/sbin:/sbin
log() { echo "hugedir: $*" >&2; }

command -v vsftpd >/dev/null || { log "vsftpd missing (run walkbench.sh once, or apt-get install vsftpd)"; exit 1; }
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
CONF=$(mktemp)
sed -e "s#@ANON_ROOT@#$ROOT#g" -e "s#@EMPTY_DIR@#$BENCH_DIR/empty#g" \
	-e "s#^listen_port=.*#listen_port=$PORT#" -e "s#^pasv_min_port=.*#pasv_min_port=32000#" -e "s#^pasv_max_port=.*#pasv_max_port=32099#" \
	"$HERE/vsftpd-bench.conf.in" >"$CONF"
vsftpd "$CONF" >/dev/null 2>&1 &
VSPID=$!
trap 'kill $VSPID 2>/dev/null || true; rm -f "$CONF"' EXIT
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
OUT=$(mktemp -d)
# shellcheck disable=SC2086
/usr/bin/time -f '%e %M' -o "$OUT/time" "$FTPAUDIT" scan --quiet --format json -o "$OUT/scan.json" ${ARGS:-} "ftp://127.0.0.1:$PORT/" || true
read -r wall rss <"$OUT/time"
files=$(jq '.hosts[0].stats.files' "$OUT/scan.json")
complete=$(jq '.hosts[0].complete' "$OUT/scan.json")
echo "entries in the directory: $N; files reported: $files; complete: $complete; wall ${wall}s; peak RSS $((rss / 1024)) MB"
rm -rf "$OUT"
[ "$files" = "$N" ] && [ "$complete" = true ]
