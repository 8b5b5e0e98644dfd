#!/bin/sh
# cordond's memory with a large roster (issue 7: <= 200 MB with 100,000
# people): peak and current RSS after the roster import, after a policy
# document is applied (a new version: every gate gets a new copy), and with
# 200 gates connected and scanning; then the restart time and RSS.
#   bench/memory.sh [BUILD] [PEOPLE]      defaults: build 100000
set -eu
BUILD=${1:-build}
PEOPLE=${2:-100000}
BIN=$(cd "$BUILD" && pwd)
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d "${CORDON_BENCH_DIR:-/tmp}/cordon-memory-XXXXXX")
DP=""
cleanup() { kill $DP 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
wait_file() { i=0; while [ ! -s "$1" ]; do i=$((i + 1)); [ $i -lt 3000 ] || exit 1; sleep 0.01; done; }
now_ms() { date +%s%3N; }
rss() {  # LABEL
  awk -v l="$1" '/VmHWM/ { h = $2 } /VmRSS/ { r = $2 }
                 END { printf "  %-40s peak %4.0f MB, now %4.0f MB\n", l, h / 1024, r / 1024 }' \
    "/proc/$DP/status"
}
# cordond returns freed memory 2 s after the last policy change and logs
# it; RSS once that has happened (at most 10 s).
trimmed() {  # LABEL
  n=$(grep -c "memory: freed heap returned" "$WORK/cordond.log" || true)
  i=0
  while [ "$(grep -c "memory: freed heap returned" "$WORK/cordond.log" || true)" -le "$n" ] &&
        [ $i -lt 1000 ]; do i=$((i + 1)); sleep 0.01; done
  rss "$1"
}
start() {
  rm -f "$WORK/port"
  "$BIN/daemon/app/cordond" --insecure --listen 127.0.0.1:0 --data-dir "$WORK/data" \
    --port-file "$WORK/port" 2>> "$WORK/cordond.log" &
  DP=$!
  wait_file "$WORK/port"
  D=127.0.0.1:$(cat "$WORK/port")
}

start
rss "started, empty"
"$BIN/bench/cordon-bench" setup --daemon "$D" --streams 200 --people "$PEOPLE" > /dev/null
rss "$PEOPLE people imported, 200 gates"
trimmed "  2 s later, freed memory returned"
"$BIN/ctl/cordonctl" --insecure --daemon "$D" policy apply "$SRC/deploy/etc/campus-policy.yaml" > /dev/null
rss "policy document applied"
trimmed "  2 s later, freed memory returned"
# Changes one after another: each copies the snapshot of every person.
for i in $(seq 1 20); do
  "$BIN/ctl/cordonctl" --insecure --daemon "$D" gate add "extra-$i" > /dev/null
done
rss "20 more gates, one change after another"
trimmed "  2 s later, freed memory returned"
"$BIN/bench/cordon-bench" run --daemon "$D" --streams 200 --rate 1000 --seconds 10 \
  --people "$PEOPLE" --pid "$DP" | grep -E 'policy copies|decision latency' | sed 's/^ */  /'
rss "200 gates connected, 1,000 scans/s"
kill -TERM $DP
wait $DP || true
t0=$(now_ms)
start
t1=$(now_ms)
echo "  restart: listening $((t1 - t0)) ms after exec"
rss "restarted"
