#!/bin/sh
# make bench: the standard set. Prints the machine, then each figure beside
# the raw limit measured in the same run.
set -eu
BUILD=${1:-build}
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo
echo "== engine: one decision (100,000 people, 18,000 inside)"
"$BUILD/bench/engine_bench" --benchmark_min_time=1
echo
echo "== durable ingest: journal writer vs plain SQLite batches (same schema, WAL, FULL)"
"$BUILD/bench/journal_bench" 200000 4096
echo
echo "== offline gate: replay of 200,000 buffered scans vs plain SQLite"
"$(dirname "$0")/replay.sh" "$BUILD" 200000
echo
echo "== load: 200 gate streams at 1,000 and 10,000 scans/s, cordond vs the raw gRPC echo"
"$(dirname "$0")/load.sh" "$BUILD" 200 10 10000
echo
echo "== memory: 100,000 people, 200 gates"
"$(dirname "$0")/memory.sh" "$BUILD" 100000
echo
echo "== a year of history (10 M events, 100,000 people): restart, load, ingest and replay"
echo "   vs plain SQLite on the same store, the echo, and the durable echo (both together; the store"
echo "   is generated once, ~10 min)"
"$(dirname "$0")/history.sh" "$BUILD" 10000000 100000 1000000
echo
echo "== security office: queries on 30 days, 60,000 people, 300 zones, 14.4 M events vs plain SQL"
echo "   (the store is generated once, ~25 min, into \$OFFICE_DB and reused)"
"$BUILD/bench/office_bench" "${OFFICE_DB:-/var/tmp/cordon-office-14m.db}" 60000 30
