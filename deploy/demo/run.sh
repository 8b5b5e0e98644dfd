#!/bin/sh
# make demo: a campus under closed management, one morning.
#
# Starts cordond on a fresh temporary data directory, imports a generated
# roster (resident staff, students, a visitor, a contractor), orders one
# staff member into home isolation, issues the visitor a pass, then runs two
# gates through a scripted morning and shows who is on campus.
set -eu

BUILD=${1:-build}
BIN=$(cd "$BUILD" && pwd)
CORDOND=$BIN/daemon/app/cordond
GATE=$BIN/gate-agent/cordon-gate
CTL=$BIN/ctl/cordonctl
HERE=$(cd "$(dirname "$0")" && pwd)
RATE=${CORDON_DEMO_RATE:-6}   # scans per second per gate

WORK=$(mktemp -d /tmp/cordon-demo-XXXXXX)
DAEMON_PID=""
cleanup() {
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "A campus CA (deploy/pki/cordon-pki): certificates for cordond, each gate and each operator"
PKI=$WORK/pki
CA="$HERE/../pki/cordon-pki"
"$CA" init "$PKI" --campus "Demo University"
"$CA" server "$PKI" cordond
for g in north-1 south-1 teaching-gate; do "$CA" issue "$PKI" gate "$g"; done
"$CA" issue "$PKI" admin registrar
"$CA" issue "$PKI" security duty-officer
"$CA" issue "$PKI" auditor inspector
export CORDON_TLS_CA=$PKI/ca.crt
TLS_DAEMON="--tls-ca $PKI/ca.crt --tls-cert $PKI/server/cordond.crt --tls-key $PKI/server/cordond.key"
# Each operator's cordonctl carries their certificate; the role decides what they may do.
admin() { "$CTL" --tls-cert "$PKI/admin/registrar.crt" --tls-key "$PKI/admin/registrar.key" "$@"; }
security() { "$CTL" --tls-cert "$PKI/security/duty-officer.crt" --tls-key "$PKI/security/duty-officer.key" "$@"; }
auditor() { "$CTL" --tls-cert "$PKI/auditor/inspector.crt" --tls-key "$PKI/auditor/inspector.key" "$@"; }
gate() { g=$1; shift; "$GATE" --gate-id "$g" --tls-cert "$PKI/gate/$g.crt" --tls-key "$PKI/gate/$g.key" "$@"; }

say "Starting cordond with mutual TLS (data in $WORK/data)"
# shellcheck disable=SC2086
"$CORDOND" $TLS_DAEMON --listen 127.0.0.1:0 --data-dir "$WORK/data" --port-file "$WORK/port" \
  2> "$WORK/cordond.log" &
DAEMON_PID=$!
i=0
while [ ! -s "$WORK/port" ]; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then
    echo "cordond did not start:"; cat "$WORK/cordond.log"; exit 1
  fi
  sleep 0.1
done
DAEMON=127.0.0.1:$(cat "$WORK/port")
export CORDON_DAEMON=$DAEMON
echo "cordond is serving on $DAEMON"

say "Registering the north and south gates"
admin gate add north-1 --description "North gate, main entrance"
admin gate add south-1 --description "South gate, dormitory side"

say "Importing the roster"
"$HERE/campus.sh" roster > "$WORK/roster.csv"
admin roster import "$WORK/roster.csv"

say "Administrative orders"
admin quarantine set T007 --until +10d --reason "returned from a risk area: home isolation"
admin pass issue V001 --host T001 --until +3h

say "The morning at the gates ($RATE scans/s per gate; unknown card, quarantine, anti-passback and a wall-climber included)"
"$HERE/campus.sh" north > "$WORK/north.txt"
"$HERE/campus.sh" south > "$WORK/south.txt"
gate north-1 --outbox "$WORK/north.outbox.db" --input "$WORK/north.txt" \
  --rate "$RATE" --drain-timeout-s 30 &
NORTH=$!
gate south-1 --outbox "$WORK/south.outbox.db" --input "$WORK/south.txt" \
  --rate "$RATE" --drain-timeout-s 30 &
SOUTH=$!
wait $NORTH
wait $SOUTH

say "Who is on campus now"
security presence

say "Alerts"
security alerts

say "The visitor's movements"
security movements V001
security person show V001

say "Outage: cordond stops; the north gate keeps deciding on its stored copy of the policy"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
printf 'CARD-S0003 in\nCARD-X77777 in\nCARD-S0017 out\n' > "$WORK/outage.txt"
gate north-1 --outbox "$WORK/north.outbox.db" --input "$WORK/outage.txt" \
  --initial-backoff-ms 200 --max-backoff-ms 400 --drain-timeout-s 1 2> /dev/null || true

say "cordond returns; the gate replays what it decided offline, exactly once"
PORT=${DAEMON#127.0.0.1:}
# shellcheck disable=SC2086
"$CORDOND" $TLS_DAEMON --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" 2>> "$WORK/cordond.log" &
DAEMON_PID=$!
: > "$WORK/empty.txt"
gate north-1 --outbox "$WORK/north.outbox.db" --input "$WORK/empty.txt" \
  --initial-backoff-ms 100 --max-backoff-ms 400 --drain-timeout-s 30
security movements S0003

say "Closed management: the campus policy document (zones, cohorts, separation, modes)"
admin policy apply "$HERE/../etc/campus-policy.yaml" --dry-run | head -n 8
echo "  ..."
admin policy apply "$HERE/../etc/campus-policy.yaml" | tail -n 1
admin gate add teaching-gate --description "Teaching area (chemistry and biology only)"
scene=0
scenes() {  # gate, then scan lines (a new input file each time: a gate resumes a file it read)
  g=$1; shift
  scene=$((scene + 1))
  printf '%s\n' "$@" > "$WORK/scene-$scene.txt"
  gate "$g" --outbox "$WORK/$g.outbox.db" --input "$WORK/scene-$scene.txt" \
    --drain-timeout-s 30 2>/dev/null
}
echo "-- S0010 (chemistry) and S0009 (dormitory A) at the teaching area; S0025 tries to go home"
scenes teaching-gate "CARD-S0010 in" "CARD-S0009 in"
scenes north-1 "CARD-S0025 out"
echo "-- S0025's leave is approved; the gate opens once"
admin leave grant S0025 --until +2h --return-by +1d --reason "family" --approved-by "Tutor Li"
scenes north-1 "CARD-S0025 out"

say "Partial reopening: one command switches every gate (the teaching area opens)"
admin mode set partial_reopening
scenes teaching-gate "CARD-S0009 in"
admin policy history

say "The security office: S0009 is a case. Who shared a room with them? (contact tracing)"
security trace S0009 --from -1h --min-minutes 0 --second-generation --case "demo case 1"
echo "-- as a Graphviz picture (cordonctl trace ... --format dot | dot -Tpng > contacts.png):"
security trace S0009 --from -1h --min-minutes 0 --case "demo case 1" --format dot | head -n 6
echo "-- occupancy of every zone, from memory"
security occupancy --zone teaching
echo "-- the daily briefing (Markdown; --json for programs)"
security report daily | head -n 48

say "Least privilege: the security office may not change the policy; the registrar may not trace"
admin trace S0009 --case "curiosity" 2>&1 || true
security mode set normal 2>&1 || true
say "The auditor: every read of movements and health, every change, every refusal"
auditor audit list | tail -n 13 | cut -c1-150
auditor audit verify

say "Stopping cordond (SIGTERM: commit, acknowledge, close, exit 0)"
kill -TERM "$DAEMON_PID"
status=0
wait "$DAEMON_PID" || status=$?
DAEMON_PID=""
tail -n 3 "$WORK/cordond.log"
echo "cordond exited with status $status"
exit "$status"
