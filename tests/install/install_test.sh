#!/usr/bin/env bash
# `cmake --install` into a fresh prefix holds the binaries, the shipped
# SKUs, labs and plans and the systemd units; the units pass
# `systemd-analyze verify`; `kiln lab` runs from that prefix in a directory
# that holds nothing of Kiln's.
#   install_test.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null

for f in bin/kiln bin/kilnd bin/kiln-agent share/bash-completion/completions/kiln share/kiln/skus/trn2-sim.yaml share/kiln/skus/h100-sim.yaml \
         share/kiln/labs/demo.yaml share/kiln/lifecycle-policy.yaml share/kiln/testplans/standard.yaml share/kiln/testplans/nightly-burnin.yaml \
         lib/systemd/system/kilnd.service lib/systemd/system/kiln-agent@.service; do
  [ -e "$prefix/$f" ] || { echo "install: $f missing under the prefix"; exit 1; }
done
grep -q "^ExecStart=$prefix/bin/kilnd " "$prefix/lib/systemd/system/kilnd.service" ||
  { echo "install: kilnd.service does not run the installed kilnd"; exit 1; }

if command -v systemd-analyze >/dev/null; then
  cp "$prefix/lib/systemd/system/kiln-agent@.service" "$work/kiln-agent@r01.service"
  (cd "$work" && systemd-analyze verify "$prefix/lib/systemd/system/kilnd.service" "$work/kiln-agent@r01.service")
else
  echo "install: systemd-analyze is not installed; the units were not verified"
  exit 77
fi

mkdir "$work/elsewhere"
cd "$work/elsewhere"
"$prefix/bin/kiln" --version
KILN_SKU_PATH= "$prefix/bin/kiln" lab --db "$work/elsewhere/kiln.db" --fail-on never > report.txt 2> progress.txt ||
  { echo "install: kiln lab from the prefix failed"; cat progress.txt; exit 1; }
grep -q "TRN-0205" report.txt || { echo "install: the demo report does not name TRN-0205"; cat report.txt; exit 1; }
grep -q "share/kiln/testplans/smoke.yaml" report.txt ||
  { echo "install: the installed smoke plan was not the one run"; cat report.txt; exit 1; }
echo "install: ok"
