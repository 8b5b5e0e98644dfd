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
