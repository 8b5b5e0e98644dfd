#!/bin/sh
# Decision latency and ingest over N gate streams, cordond beside the raw
# limit (cordon-bench's echo GateService: same messages, no decisions, no
# storage), each at the same rates on this machine, one after the other.
#   bench/load.sh [BUILD] [STREAMS] [SECONDS] [PEOPLE]   defaults: build 200 10 10000
set -eu
BUILD=${1:-build}
STREAMS=${2:-200}
SECONDS_EACH=${3:-10}
PEOPLE=${4:-10000}
BIN=$(cd "$BUILD" && pwd)
WORK=$(mktemp -d "${CORDON_BENCH_DIR:-/tmp}/cordon-load-XXXXXX")
DP="" EP=""
cleanup() { kill $DP $EP 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

wait_file() { i=0; while [ ! -s "$1" ]; do i=$((i + 1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done; }
"$BIN/daemon/app/cordond" --insecure --listen 127.0.0.1:0 --data-dir "$WORK/data" --port-file "$WORK/port" \
  2> "$WORK/cordond.log" &
DP=$!
"$BIN/bench/cordon-bench" echo --listen 127.0.0.1:0 --port-file "$WORK/eport" 2> /dev/null &
EP=$!
wait_file "$WORK/port"
wait_file "$WORK/eport"
D=127.0.0.1:$(cat "$WORK/port")
E=127.0.0.1:$(cat "$WORK/eport")
"$BIN/bench/cordon-bench" setup --daemon "$D" --streams "$STREAMS" --people "$PEOPLE"
for rate in 1000 10000; do
  echo "-- cordond, $rate scans/s"
  "$BIN/bench/cordon-bench" run --daemon "$D" --streams "$STREAMS" --rate "$rate" \
    --seconds "$SECONDS_EACH" --people "$PEOPLE" --pid "$DP" || true
  echo "-- raw limit (echo), $rate scans/s"
  "$BIN/bench/cordon-bench" run --daemon "$E" --streams "$STREAMS" --rate "$rate" \
    --seconds "$SECONDS_EACH" --people "$PEOPLE" --pid "$EP" || true
done
