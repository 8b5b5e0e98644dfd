#!/bin/sh
# Installs the Debian 12 packages Cordon needs to build, test and run its
# demo. Idempotent: prints one line and changes nothing when all are present.
# Uses sudo only when not run as root.
#   prometheus-cpp-dev  the /metrics endpoint (exposition format + HTTP server)
#   dpkg-dev            dpkg-shlibdeps, so make package derives .deb dependencies
#   systemd             systemd-analyze, which verifies the units in the tests
#   clang, libclang-rt-14-dev  libFuzzer for make fuzz
set -eu

PACKAGES="cmake ninja-build g++ make pkg-config
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev libabsl-dev
  libboost-dev libsqlite3-dev libssl-dev libspdlog-dev libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev
  dpkg-dev systemd clang libclang-rt-14-dev"

missing=""
count=0
for p in $PACKAGES; do
  count=$((count + 1))
  if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "cordon: all $count Debian packages it needs are installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "cordon: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "cordon: installed$missing"
