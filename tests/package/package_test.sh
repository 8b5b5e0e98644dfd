#!/bin/sh
# Builds the .deb packages, unpacks them into a fresh root, checks that the
# files, conffiles, dependencies and systemd units are in place, verifies the
# units with systemd-analyze, then starts the installed cordond with the
# installed config and asks the installed cordonctl whether it is healthy.
#   package_test.sh BUILD_DIR
set -eu
BUILD=$(cd "$1" && pwd)
WORK=$(mktemp -d /tmp/cordon-package-XXXXXX)
PID=""
cleanup() {
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$BUILD" && cpack -G DEB -B "$WORK/debs" > "$WORK/cpack.log" 2>&1) ||
  { cat "$WORK/cpack.log"; fail "cpack failed"; }
ROOT=$WORK/root
for pkg in cordond cordon-gate cordonctl; do
  deb=$(ls "$WORK/debs/${pkg}_"*.deb 2>/dev/null | head -1)
  [ -n "$deb" ] || fail "no $pkg package built"
  dpkg-deb -x "$deb" "$ROOT"
  dpkg-deb -f "$deb" Package | grep -qx "$pkg" || fail "$deb: wrong package name"
  dpkg-deb -f "$deb" Depends | grep -q "libgrpc++" || fail "$deb: no library dependencies"
done
for f in usr/sbin/cordond usr/bin/cordon-gate usr/bin/cordonctl; do
  [ -x "$ROOT/$f" ] || fail "$f missing or not executable"
done
for f in etc/cordon/cordond.yaml etc/cordon/gate.env lib/systemd/system/cordond.service \
         "lib/systemd/system/cordon-gate@.service" usr/share/doc/cordond/README.md; do
  [ -f "$ROOT/$f" ] || fail "$f missing"
done
dpkg-deb --info "$WORK"/debs/cordond_*.deb conffiles | grep -qx /etc/cordon/cordond.yaml ||
  fail "cordond.yaml is not a conffile"
dpkg-deb --info "$WORK"/debs/cordon-gate_*.deb conffiles | grep -qx /etc/cordon/gate.env ||
  fail "gate.env is not a conffile"
grep -q "^ProtectSystem=strict" "$ROOT/lib/systemd/system/cordond.service" || fail "no sandbox"
grep -q "^DynamicUser=yes" "$ROOT/lib/systemd/system/cordond.service" || fail "no dedicated user"

# systemd-analyze verify checks that ExecStart exists on this machine, so the
# units are verified as copies pointing into the unpacked root.
UNITS=$WORK/units
mkdir -p "$UNITS"
sed "s|/usr/sbin/cordond|$ROOT/usr/sbin/cordond|" "$ROOT/lib/systemd/system/cordond.service" \
  > "$UNITS/cordond.service"
sed "s|/usr/bin/cordon-gate|$ROOT/usr/bin/cordon-gate|" \
  "$ROOT/lib/systemd/system/cordon-gate@.service" > "$UNITS/cordon-gate@.service"
cp "$UNITS/cordon-gate@.service" "$UNITS/cordon-gate@north-1.service"
if command -v systemd-analyze > /dev/null; then
  for unit in cordond.service cordon-gate@north-1.service; do
    systemd-analyze verify "$UNITS/$unit" > "$WORK/verify.log" 2>&1 ||
      { cat "$WORK/verify.log"; fail "systemd-analyze verify $unit"; }
    # It only warns about unknown keys; a warning is a defect here.
    if [ -s "$WORK/verify.log" ]; then cat "$WORK/verify.log"; fail "$unit has warnings"; fi
  done
  echo "systemd-analyze verify: cordond.service, cordon-gate@.service ok"
else
  fail "systemd-analyze is missing (deploy/install-deps.sh installs systemd)"
fi

# The installed daemon, with the installed config; only what a test machine
# cannot give it (the state directory, fixed ports) is overridden.
"$ROOT/usr/sbin/cordond" --config "$ROOT/etc/cordon/cordond.yaml" --data-dir "$WORK/state" \
  --insecure --listen 127.0.0.1:0 --port-file "$WORK/port" --metrics-listen 127.0.0.1:0 \
  --metrics-port-file "$WORK/metrics.port" 2> "$WORK/cordond.log" &
PID=$!
i=0
while [ ! -s "$WORK/port" ]; do
  i=$((i + 1))
  if [ $i -gt 300 ] || ! kill -0 "$PID" 2>/dev/null; then
    cat "$WORK/cordond.log"; fail "installed cordond did not start"
  fi
  sleep 0.1  # polling for the port file, with the 30 s deadline above
done
"$ROOT/usr/bin/cordonctl" --insecure --daemon "127.0.0.1:$(cat "$WORK/port")" health ||
  { cat "$WORK/cordond.log"; fail "installed cordond is not healthy"; }
kill -TERM "$PID"
wait "$PID" || fail "cordond did not exit 0 on SIGTERM"
PID=""
echo "PASS: packages unpack, units verify, installed cordond serves and stops cleanly"
