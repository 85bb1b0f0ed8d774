#!/usr/bin/env bash
# Runs one libFuzzer target of the fuzz preset on its seed corpus
# (docs/fuzzing.md):
#   scripts/fuzz.sh TARGET [SECONDS] [libFuzzer flags…]
# TARGET: frame_decoder, envelope_dispatch, plan_loader, lab_loader, sku_loader, cron_expression,
# telemetry_chunk.
# Build first: cmake --preset fuzz && cmake --build --preset fuzz
# New inputs go to build/fuzz/corpus/TARGET, crashes to build/fuzz/artifacts/TARGET.
# Runs under nice (FUZZ_NICE, default 15), so that it does not starve builds
# on the same machine.
# With FUZZ_CPU_SECONDS=N the run ends when the fuzzer has used N seconds of
# CPU (user + system) rather than after SECONDS of wall time: on a loaded
# machine the two differ widely, and the aim is stated in CPU time.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [SECONDS] [libFuzzer flags…]}
seconds=${2:-60}
shift $(( $# < 2 ? $# : 2 ))
exe=build/fuzz/bin/kiln_fuzz_${target}
if [ ! -x "$exe" ]; then
  echo "fuzz: $exe is not built (cmake --preset fuzz && cmake --build --preset fuzz)" >&2
  exit 2
fi
corpus=build/fuzz/corpus/${target}
artifacts=build/fuzz/artifacts/${target}
mkdir -p "$corpus" "$artifacts"
flags=(-max_len=4096)
case $target in
  plan_loader) seeds=(testplans/*.yaml) ;;
  lab_loader) seeds=(device/labs/*.yaml) ;;
  sku_loader) seeds=(device/skus/*.yaml) ;;
  frame_decoder | envelope_dispatch | cron_expression | telemetry_chunk) seeds=() ;;
  *) echo "fuzz: unknown target $target" >&2; exit 2 ;;
esac
case $target in
  *_loader) flags=(-max_len=8192 -dict=fuzz/yaml.dict) ;;
esac
# The shipped files and the checked-in seeds, copied in so that libFuzzer
# reads them with what it found before.
cp -f "${seeds[@]}" fuzz/corpus/"${target}"/* "$corpus"/
run=(nice -n "${FUZZ_NICE:-15}" "$exe" "${flags[@]}" -print_final_stats=1 -artifact_prefix="$artifacts"/ "$@" "$corpus")
if [ -z "${FUZZ_CPU_SECONDS:-}" ]; then
  exec "${run[@]:0:3}" -max_total_time="$seconds" "${run[@]:3}"
fi
# libFuzzer prints its final stats when interrupted (exit code 72).
"${run[@]}" &
fuzzer=$!
ticks=$(getconf CLK_TCK)
started=$SECONDS
while kill -0 "$fuzzer" 2>/dev/null; do
  read -r -a stat < /proc/"$fuzzer"/stat 2>/dev/null || break
  cpu=$(( (stat[13] + stat[14]) / ticks ))
  if (( cpu >= FUZZ_CPU_SECONDS )); then
    echo "fuzz: $target used ${cpu} CPU s in $(( SECONDS - started )) s of wall time; stopping" >&2
    kill -INT "$fuzzer"
    break
  fi
  sleep 5
done
status=0
wait "$fuzzer" || status=$?
# 72: interrupted as asked, not a crash.
if (( status == 72 )); then exit 0; fi
exit "$status"
