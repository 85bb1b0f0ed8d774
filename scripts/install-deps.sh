#!/usr/bin/env bash
# Installs every Debian 12 package Kiln's build, tests, benchmarks and fuzz
# targets use (clang and libfuzzer-14-dev: the fuzz preset, docs/fuzzing.md).
# Idempotent: packages already present are left alone, and apt is only
# asked when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git clang-format
  libboost-dev libboost-system-dev
  libboost-fiber-dev            # a rack's simulated chips run as fibers (agents/chip_tasks.hpp)
  protobuf-compiler libprotobuf-dev
  libsqlite3-dev libsqlitecpp-dev sqlite3
  libyaml-cpp-dev
  libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libssl-dev
  libhowardhinnant-date-dev tzdata   # schedules: cron in explicit time zones
  libzstd-dev                   # compressed telemetry chunks (docs/telemetry-storage.md)
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libfuzzer-14-dev
  libopenblas-dev libdnnl-dev
  zlib1g-dev                    # CRC32 of the agent spool's records
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libgl1-mesa-dev
  python3 python3-junitparser   # tests: the JUnit report read by a real consumer
  chromium                      # tests: the HTML report rendered headless (skipped without it)
  python3-protobuf              # tests: examples/python/kiln_client.py (protoc comes with protobuf-compiler)
  prometheus                    # tests: promtool checks kilnd's /metrics
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
