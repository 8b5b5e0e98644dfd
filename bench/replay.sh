#!/bin/sh
# Replay rate of an offline gate: N scans decided and stored while cordond
# is down, then sent, recorded and acknowledged when it returns. Measured
# from the gate's start to its exit once every scan is acknowledged (outbox
# load, reconnect, daemon, commits, outbox deletes all included), beside
# plain batched SQLite inserts of N events measured in the same run.
#   bench/replay.sh [BUILD] [N]      defaults: build 200000
set -eu
BUILD=${1:-build}
N=${2:-200000}
BIN=$(cd "$BUILD" && pwd)
WORK=$(mktemp -d /tmp/cordon-replay-XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

start_daemon() {
  rm -f "$WORK/port"
  "$BIN/daemon/app/cordond" --insecure --listen 127.0.0.1:${PORT:-0} --data-dir "$WORK/data" \
    --port-file "$WORK/port" 2>> "$WORK/cordond.log" &
  PID=$!
  i=0
  while [ ! -s "$WORK/port" ]; do i=$((i + 1)); [ $i -lt 300 ] || exit 1; sleep 0.1; done
  PORT=$(cat "$WORK/port")
}
stop_daemon() { kill -TERM "$PID"; wait "$PID" || true; PID=""; }
now_ms() { date +%s%3N; }

start_daemon
CTL="$BIN/ctl/cordonctl --insecure --daemon 127.0.0.1:$PORT"
$CTL gate add bench-1 > /dev/null
awk 'BEGIN { print "external_id,name,category,cohort,credential,active,valid_until";
             for (i = 0; i < 10000; i++) printf "S%d,Student %d,student,,CARD-S%d,,\n", i, i, i }' \
  > "$WORK/roster.csv"
$CTL roster import "$WORK/roster.csv" > /dev/null
GATE="$BIN/gate-agent/cordon-gate --insecure --gate-id bench-1 --outbox $WORK/bench.outbox.db
      --offline-limits student=none --daemon 127.0.0.1:$PORT"
echo "CARD-S0 out" > "$WORK/warm.txt"
$GATE --input "$WORK/warm.txt" > /dev/null 2>&1            # online once: receive the policy copy
stop_daemon

awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "CARD-S%d %s\n", i % 10000, (int(i / 10000) % 2) ? "out" : "in" }' \
  > "$WORK/day.txt"
t0=$(now_ms)
$GATE --input "$WORK/day.txt" --drain-timeout-s 1 > /dev/null 2>&1 || true   # exits 3: all stored, none acked
t1=$(now_ms)
start_daemon
: > "$WORK/empty.txt"
t2=$(now_ms)
$GATE --input "$WORK/empty.txt" --drain-timeout-s 0 > /dev/null 2>&1
t3=$(now_ms)
peak=$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$PID/status")
stop_daemon

replay=$(( N * 1000 / (t3 - t2) ))
offline=$(( N * 1000 / (t1 - t0) ))
plain=$("$BIN/bench/journal_bench" "$N" 4096 | awk '$1 == "plain" && $2 == "SQLite" { print $3; exit }')
echo "events            $N"
echo "offline decide+store  $offline events/s  ($((t1 - t0)) ms)"
echo "replay to cordond     $replay events/s  ($((t3 - t2)) ms, gate start to all acknowledged)"
echo "plain SQLite          $plain events/s  (same run, batches of 4096)"
echo "cordond peak RSS      $peak MB"
awk -v r="$replay" -v p="$plain" 'BEGIN { printf "ratio                 %.2f x plain SQLite\n", r / p }'
