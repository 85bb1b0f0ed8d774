#!/usr/bin/env bash
# End to end: `kiln lab` runs a plan on a lab (kilnd, one kiln-agent per
# rack, mutual TLS, every sample stored) and this prints one JSON object:
# the run's simulated seconds, the chips' verdicts, its wall time after start-up, the achieved
# time scale and simulated chip-seconds per wall second (from the report's
# run.time_scale, which kiln lab measures: docs/cli.md), the database size
# and the host's load average. bench/sim/lab_bench measures the twin and
# agents alone.
#
#   [KILN_BENCH_KEEP_LOG=FILE] bench/sim/lab_end_to_end.sh [BIN_DIR] [LAB] [PLAN] [extra kiln lab flags, e.g. --unpaced]
set -euo pipefail
bin=${1:-build/default/bin}
lab=${2:-device/labs/lab-1024.yaml}
plan=${3:-testplans/standard.yaml}
shift $(( $# < 3 ? $# : 3 ))
dir=$(mktemp -d /tmp/kiln-e2e-bench-XXXXXX)
keep=${KILN_BENCH_KEEP_LOG:-}  # a path: kiln lab's log is copied there
trap '[ -n "$keep" ] && cp "$dir/kiln.db.log" "$keep" 2>/dev/null; rm -rf "$dir"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s.%N)
set +e
"$bin/kiln" lab --lab "$lab" --plan "$plan" --db "$dir/kiln.db" --format json "$@" >"$dir/report.json" 2>"$dir/stderr"
status=$?
set -e
end=$(date +%s.%N)
python3 - "$dir" "$status" "$start" "$end" "$load_before" "$lab" "$plan" <<'PY'
import json, os, sys
d, status, start, end, load_before, lab, plan = sys.argv[1:]
out = {"lab": lab, "plan": plan, "kiln_lab_status": int(status),
       "wall_s_with_startup": float(end) - float(start),
       "load_average_before": load_before,
       "load_average_after": " ".join(open("/proc/loadavg").read().split()[:3])}
try:
    report = json.load(open(os.path.join(d, "report.json")))
    chips = len(report.get("chips", []))
    t = report["run"].get("time_scale", {})
    verdicts = {}
    for chip in report.get("chips", []):
        verdicts[chip.get("verdict", "none")] = verdicts.get(chip.get("verdict", "none"), 0) + 1
    out.update({"run_status": report["run"].get("status"), "chips": chips, "verdicts": verdicts,
                "time_scale": t,
                "chip_seconds_per_second": chips * t["simulated_s"] / t["wall_s"] if t.get("wall_s") else None})
except Exception as e:  # the run failed: say why, from kiln lab's stderr
    out["error"] = str(e)
    out["stderr_tail"] = open(os.path.join(d, "stderr")).read()[-2000:]
out["database_bytes"] = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d) if f.startswith("kiln.db") and not f.endswith(".log"))
print(json.dumps(out, indent=2))
PY
