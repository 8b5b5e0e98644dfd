#!/bin/sh
# cordond on a store with a year of history (issue 7's targets): restart
# time, decision latency and durable ingest over 200 gate streams, the
# replay of buffered events while live decisions continue, and beside them
# the raw limits measured in the same run on a copy of the same store: plain
# SQLite inserts of the same rows and intervals, and the plain gRPC echo.
#
#   bench/history.sh [BUILD] [EVENTS] [PEOPLE] [REPLAY]
#     defaults: build 10000000 100000 1000000
# The history (~2.2 GB for 10 M events; ~10 min to generate through the real
# ingest path) is kept in $CORDON_HISTORY (default
# /var/tmp/cordon-history-EVENTS) and reused; each run works on copies (up
# to four with the replay and plain SQLite steps, about 9 GB for 10 M events).
# CORDON_HISTORY_STEPS picks parts: r restart, l load, x replay, p plain
# SQLite (default rlxp; the ratios need l, x and p). The load and replay
# steps also run the durable echo (the echo storing each scan's rows with
# plain SQLite) on a second copy of the store, kept in the same state as
# cordond's.
set -eu
BUILD=${1:-build}
EVENTS=${2:-10000000}
PEOPLE=${3:-100000}
REPLAY=${4:-1000000}
STEPS=${CORDON_HISTORY_STEPS:-rlxp}
step() { case "$STEPS" in *$1*) return 0 ;; *) return 1 ;; esac; }
STREAMS=200
BIN=$(cd "$BUILD" && pwd)
HISTORY=${CORDON_HISTORY:-/var/tmp/cordon-history-$EVENTS}
WORK=$(mktemp -d "${CORDON_BENCH_DIR:-/var/tmp}/cordon-history-run-XXXXXX")
DP="" EP="" SP=""
cleanup() { kill $DP $EP $SP 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
now_ms() { date +%s%3N; }
# 120 s: a first start upgrades the schema of a store read cold (43 s here).
wait_file() { i=0; while [ ! -s "$1" ]; do i=$((i + 1)); [ $i -lt 12000 ] || exit 1; sleep 0.01; done; }
# The store holds a year; the default retention (28 days) would purge 92% of
# it in the first pass, 5 minutes after a start, in the middle of a step.
printf 'retention:\n  days: 400\n' > "$WORK/cordond.yaml"
start_daemon() {  # DATA_DIR
  rm -f "$WORK/port"
  "$BIN/daemon/app/cordond" --config "$WORK/cordond.yaml" --insecure --listen 127.0.0.1:0 \
    --data-dir "$1" --port-file "$WORK/port" 2>> "$WORK/cordond.log" &
  DP=$!
  wait_file "$WORK/port"
  D=127.0.0.1:$(cat "$WORK/port")
}
stop_daemon() { kill -TERM "$DP"; wait "$DP" || true; DP=""; }
bench_run() {  # ADDRESS PID RATE SECONDS -> cordon-bench's report
  "$BIN/bench/cordon-bench" run --daemon "$1" --pid "$2" --rate "$3" --seconds "$4" \
    --streams $STREAMS --people "$PEOPLE" || true
}
field() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }

if [ ! -s "$HISTORY/data/cordon.db" ]; then
  echo "generating $EVENTS events of history for $PEOPLE people into $HISTORY (once)"
  rm -rf "$HISTORY.new"
  mkdir -p "$HISTORY.new"
  start_daemon "$HISTORY.new/data"
  "$BIN/bench/cordon-bench" setup --daemon "$D" --streams $STREAMS --people "$PEOPLE"
  stop_daemon
  "$BIN/bench/history_fill" "$HISTORY.new/data/cordon.db" "$EVENTS" 365
  mv "$HISTORY.new" "$HISTORY"
fi
cp -r "$HISTORY/data" "$WORK/data"
{ step l || step x; } && cp -r "$HISTORY/data" "$WORK/echo-data"
# The copy leaves 2 GB of dirty pages; their writeback during a step would
# be measured as cordond's (fdatasync waits behind it).
sync
echo "store: $(du -m "$WORK/data/cordon.db" | cut -f1) MB, $EVENTS events over 365 days, $PEOPLE people, $STREAMS gates"

if step r; then
echo
echo "-- restart to serving"
cold() { [ -w /proc/sys/vm/drop_caches ] && sync && echo 3 > /proc/sys/vm/drop_caches; }
timed_start() {  # LABEL
  cold || true
  t0=$(now_ms); start_daemon "$WORK/data"; t1=$(now_ms)
  printf "  %-58s %6d ms from exec to listening\n" "$1" $((t1 - t0))
}
[ -w /proc/sys/vm/drop_caches ] && echo "  (page cache dropped before each start)"
timed_start "first start (schema upgrade, no presence snapshot yet):"
stop_daemon   # a clean stop writes the presence snapshot
timed_start "after a clean stop:"
kill -KILL "$DP"; wait "$DP" 2>/dev/null || true; DP=""
# A crash 10 minutes after the last periodic snapshot at 1,000 scans/s.
"$BIN/bench/history_fill" "$WORK/data/cordon.db" --plain 600000 4096 random > /dev/null
# The durable echo's copy gets the same rows (a larger "today" costs a writer more).
{ step l || step x; } && "$BIN/bench/history_fill" "$WORK/echo-data/cordon.db" --plain 600000 4096 random > /dev/null
timed_start "after a crash, 600,000 events since the last snapshot:"
stop_daemon
# What follows measures a daemon that has been running: its store in the
# page cache (this machine's memory holds it), not one just started cold.
# Page by page, as cordond reads it: a sequential read (cat) leaves large
# folios, and the writer's checkpoints then dirty whole folios (BENCHMARKS,
# eleventh pass).
"$BIN/bench/history_fill" "$WORK/data/cordon.db" --warm > /dev/null
{ step l || step x; } && "$BIN/bench/history_fill" "$WORK/echo-data/cordon.db" --warm > /dev/null
fi
start_daemon "$WORK/data"

"$BIN/bench/cordon-bench" echo --listen 127.0.0.1:0 --port-file "$WORK/eport" 2> /dev/null &
EP=$!
wait_file "$WORK/eport"
E=127.0.0.1:$(cat "$WORK/eport")
SP=""
if step l || step x; then
  "$BIN/bench/cordon-bench" echo --store "$WORK/echo-data/cordon.db" --listen 127.0.0.1:0 \
    --port-file "$WORK/sport" 2> /dev/null &
  SP=$!
  wait_file "$WORK/sport"
  S=127.0.0.1:$(cat "$WORK/sport")
fi
for rate in 1000 10000 0; do
  step l || break
  label=$rate; [ "$rate" = 0 ] && label="as fast as acknowledged"
  echo
  echo "-- cordond, $label scans/s"
  # A p99 over 10 s is the 100th worst of 10,000 scans at 1,000/s, and moved
  # by a third between identical runs; 30 s at fixed rates.
  secs=30; [ "$rate" = 0 ] && secs=10
  bench_run "$D" "$DP" $rate $secs | tee "$WORK/cordond-$rate.txt" | grep -v '^policy copies'
  echo "-- raw limit (echo), $label scans/s"
  bench_run "$E" "$EP" $rate $secs | tee "$WORK/echo-$rate.txt"
  echo "-- raw limits together (durable echo: the echo, storing each scan's rows with plain SQLite), $label scans/s"
  bench_run "$S" "$SP" $rate $secs | tee "$WORK/durable-$rate.txt"
done

if step x; then
echo
echo "-- replay: a gate's $REPLAY buffered scans sent while 200 gates scan 1,000/s"
"$BIN/ctl/cordonctl" --insecure --daemon "$D" gate add replay-1 > /dev/null
GATE="$BIN/gate-agent/cordon-gate --insecure --gate-id replay-1 --outbox $WORK/replay.outbox.db
      --offline-limits student=none --daemon $D"
echo "CARD-B0 out" > "$WORK/warm.txt"
$GATE --input "$WORK/warm.txt" > /dev/null 2>&1    # online once: receive the policy copy
stop_daemon
# Step p stores what the replay stored into copies of the store as the
# replay finds it, once with plain SQLite and once through the writer path
# alone: the same rows meet the same indexes.
if step p; then cp -r "$WORK/data" "$WORK/plain-data"; cp -r "$WORK/data" "$WORK/store-data"; sync; fi
awk -v n="$REPLAY" -v p="$PEOPLE" 'BEGIN { for (i = 0; i < n; i++) printf "CARD-B%d %s\n", i % p, (int(i / p) % 2) ? "out" : "in" }' \
  > "$WORK/day.txt"
t0=$(now_ms)
$GATE --input "$WORK/day.txt" --drain-timeout-s 1 > /dev/null 2>&1 || true   # exits 3: stored, none acked
t1=$(now_ms)
echo "  offline: $REPLAY scans decided and stored by the gate in $((t1 - t0)) ms"
# The same backlog for the durable echo afterwards.
for f in "$WORK"/replay.outbox.db*; do cp "$f" "$WORK/echo-$(basename "$f")"; done
start_daemon "$WORK/data"
: > "$WORK/empty.txt"
# The 200 live gates have been scanning for a while when the gate comes back:
# they hold the policy (no copies) and are past their warm-up when it starts.
replay_beside_live() {  # ADDRESS PID OUTBOX LIVE_REPORT -> the replay's events/s
  "$BIN/bench/cordon-bench" run --daemon "$1" --pid "$2" --rate 1000 --seconds 20 \
    --streams $STREAMS --people "$PEOPLE" --held-policy --measuring-file "$4.measuring" > "$4" &
  live=$!
  wait_file "$4.measuring"
  r0=$(now_ms)
  "$BIN/gate-agent/cordon-gate" --insecure --gate-id replay-1 --outbox "$3" \
    --offline-limits student=none --daemon "$1" --input "$WORK/empty.txt" --drain-timeout-s 0 \
    > /dev/null 2>&1
  r1=$(now_ms)
  wait $live
  echo $((REPLAY * 1000 / (r1 - r0)))
}
replay=$(replay_beside_live "$D" "$DP" "$WORK/replay.outbox.db" "$WORK/live.txt")
echo "  replayed to cordond: $replay events/s (gate start to all acknowledged)"
awk '/VmHWM/ { printf "  cordond peak RSS (start, replay and live load): %.0f MB\n", $2 / 1024 }' \
  "/proc/$DP/status"
echo "  live decisions meanwhile (20 s from the replay's start):"
grep -E 'decision latency|ack latency' "$WORK/live.txt"
# The raw limits together under the same replay: the durable echo stores the
# backlog's rows and the live scans' with plain SQLite, on the same cores.
echo_replay=$(replay_beside_live "$S" "$SP" "$WORK/echo-replay.outbox.db" "$WORK/echo-live.txt")
echo "  replayed to the durable echo: $echo_replay events/s, live decisions meanwhile:"
grep -E 'decision latency' "$WORK/echo-live.txt"
fi
stop_daemon

step p || exit 0
echo
echo "-- raw limit: plain SQLite on this store (same rows, intervals and indexes; WAL, FULL)"
if step x; then
  # The rows cordond stored during the replay, read back from its store: the
  # gate's and the live scans between them, in the order stored, with their
  # own times, into the store as it was before the replay. The rate counts
  # the gate's rows, as the replay's does.
  echo "  what cordond stored during the replay (the gate's rows and the live scans"
  echo "  between them), in its order, into the store as the replay found it:"
  rows="replayed $WORK/data/cordon.db replay-1"
  plain_db=$WORK/plain-data/cordon.db store_db=$WORK/store-data/cordon.db
else
  echo "  a replayed day's rows (one gate; everybody in, then out), on a day of their own:"
  rows=sequential plain_db=$WORK/data/cordon.db store_db=$WORK/data/cordon.db
fi
"$BIN/bench/history_fill" "$plain_db" --plain "$REPLAY" 4096 $rows | tee "$WORK/plain-replay.txt"
plain_replay=$(field SQLite < "$WORK/plain-replay.txt")
echo "  the same rows through cordond's writer path alone (no gRPC, no deciding threads):"
"$BIN/bench/history_fill" "$store_db" --store "$REPLAY" 4096 $rows | tee "$WORK/store-replay.txt"
store_replay=$(field path < "$WORK/store-replay.txt")
echo "  people scattered, as the load generator sends them:"
"$BIN/bench/history_fill" "$WORK/data/cordon.db" --plain 200000 4096 random | tee "$WORK/plain.txt"
plain=$(field SQLite < "$WORK/plain.txt")

step l && step x || exit 0
echo
echo "== ratios (this run)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
for rate in 1000 10000; do
  c50=$(grep 'decision latency' "$WORK/cordond-$rate.txt" | field p50)
  c99=$(grep 'decision latency' "$WORK/cordond-$rate.txt" | field p99)
  c999=$(grep 'decision latency' "$WORK/cordond-$rate.txt" | field p99.9)
  e50=$(grep 'decision latency' "$WORK/echo-$rate.txt" | field p50)
  e99=$(grep 'decision latency' "$WORK/echo-$rate.txt" | field p99)
  ccpu=$(grep -o '([0-9.]* µs per' "$WORK/cordond-$rate.txt" | tr -dc '0-9.')
  ecpu=$(grep -o '([0-9.]* µs per' "$WORK/echo-$rate.txt" | tr -dc '0-9.')
  echo "  $rate/s: p50 $c50 µs = $(ratio "$c50" "$e50") x echo, p99 $c99 µs = $(ratio "$c99" "$e99") x echo, p99.9 $c999 µs, CPU/scan $(ratio "$ccpu" "$ecpu") x echo"
  s50=$(grep 'decision latency' "$WORK/durable-$rate.txt" | field p50)
  s99=$(grep 'decision latency' "$WORK/durable-$rate.txt" | field p99)
  s999=$(grep 'decision latency' "$WORK/durable-$rate.txt" | field p99.9)
  scpu=$(grep -o '([0-9.]* µs per' "$WORK/durable-$rate.txt" | tr -dc '0-9.')
  echo "     durable echo: p50 $s50 µs, p99 $s99 µs, p99.9 $s999 µs; cordond = $(ratio "$c50" "$s50") / $(ratio "$c99" "$s99") / $(ratio "$c999" "$s999") x, CPU/scan $(ratio "$ccpu" "$scpu") x"
done
cmax=$(grep 'durable ingest' "$WORK/cordond-0.txt" | field ingest)
emax=$(grep 'durable ingest' "$WORK/echo-0.txt" | field ingest)
smax=$(grep 'durable ingest' "$WORK/durable-0.txt" | field ingest)
echo "  durable ingest $cmax/s = $(ratio "$cmax" "$plain") x plain SQLite ($plain/s), $(ratio "$cmax" "$emax") x echo ($emax/s), $(ratio "$cmax" "$smax") x durable echo ($smax/s)"
echo "  replay $replay/s = $(ratio "$replay" "$plain_replay") x plain SQLite ($plain_replay/s, same rows and order); the writer path alone $store_replay/s = $(ratio "$store_replay" "$plain_replay") x plain"
l99=$(grep 'decision latency' "$WORK/live.txt" | field p99)
s99=$(grep 'decision latency' "$WORK/echo-live.txt" | field p99)
echo "     durable echo: replay $echo_replay/s = $(ratio "$echo_replay" "$plain_replay") x plain, live p99 $s99 µs; cordond = $(ratio "$replay" "$echo_replay") x its replay rate, $(ratio "$l99" "$s99") x its live p99"
