#!/usr/bin/env python3
"""The long chaos run of issue 11: kilnd killed again and again during one run.

Builds a simulated lab of RACKS racks (one kiln-agent process each, with its
own credential and spool), starts kilnd, submits a plan of MINUTES simulated
minutes paced at time scale 1 (one gemm phase with verification, then a
cooldown), and kill -9s kilnd KILLS times at even intervals, starting it
again at once each time. Then the same lab and seed runs uninterrupted, as
fast as the host allows, on a fresh database, and the two are compared:

  lost        samples of the uninterrupted run missing from the chaotic one
  duplicated  (chip, step, time, metric) stored more than once
  extra       samples the uninterrupted run does not have
  changed     values that differ in the gemm phase (the one that runs through
              the kills; the cooldown starts later after a kill, so only its
              samples are counted, not their values)
  verdicts    every chip's verdict and failures, equal or not
  integrity   PRAGMA integrity_check of the chaotic run's database

and, per kill, the recovery time: from the kill until every rack's agent has
registered with the new kilnd. kilnd's peak resident memory over all its
lives is sampled from /proc. Prints one JSON object; exit 1 if anything was
lost, duplicated, changed or judged differently.

  bench/chaos/chaos.py [--bin build/default/bin] [--racks 64] [--minutes 10] [--kills 10]
"""
import argparse, json, os, re, secrets, sqlite3, subprocess, sys, tempfile, threading, time

REGISTERED = r"agent of rack \S+ registered"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

def private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)

def lab_yaml(racks, time_scale):
    lines = ["lab: chaos", "seed: 42", f"time_scale: {time_scale}", "ambient_c: 25", "racks:"]
    for r in range(racks):
        rack = f"r{r + 1:02d}"
        lines += [f"  - id: {rack}", "    backend: sim", "    topology: ring", "    chips:"]
        for slot in range(2):
            fault = ""
            if r == racks // 2 and slot == 1:  # one chip with an SDC, to be found every time
                fault = ", faults: [{kind: sdc, core: 1, pe: [12, 40], bit: 22, rate: 0.01}]"
            lines.append(f"      - {{slot: {slot}, serial: C-{r + 1:02d}-{slot}, sku: trn2-sim{fault}}}")
    return "\n".join(lines) + "\n"

def plan_yaml(minutes):
    gemm_s = int(minutes * 60 * 0.85)
    cool_s = int(minutes * 60) - gemm_s
    return f"""plan: chaos
targets: {{racks: all}}
sample_hz: 2
steps:
  - name: gemm-bf16
    pattern: gemm
    duration: {gemm_s}s
    params: {{dtype: bf16, verify: abft, m: 8192, n: 8192, k: 8192}}
    limits:
      sdc_errors: {{max: 0}}
      temperature_c: {{max: 95}}
  - name: cooldown
    pattern: idle
    duration: {cool_s}s
    limits:
      temperature_c: {{max: 95}}
"""

class Lab:
    """kilnd and one agent per rack, as processes, in `work`."""

    def __init__(self, args, work, db, lab_file, racks):
        self.args, self.work, self.db, self.lab_file, self.racks = args, work, db, lab_file, racks
        self.kilnd = None
        self.port = 0
        self.generation = 0
        self.agents = []
        self.peak_rss_mib = 0.0
        self._watching = True
        self._watcher = threading.Thread(target=self._watch_rss, daemon=True)
        self._watcher.start()

    def exe(self, name):
        return os.path.join(self.args.bin, name)

    def log(self, name):
        return os.path.join(self.work, name + ".log")

    def start_kilnd(self):
        self.generation += 1
        log = open(self.log(f"kilnd-{self.generation}"), "w")
        self.kilnd = subprocess.Popen(
            [self.exe("kilnd"), "--db", self.db, "--listen", f"127.0.0.1:{self.port}", "--credentials",
             os.path.join(self.work, "credentials.yaml"), "--rack-return-timeout", "600"],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        ready = "kilnd listening on 127.0.0.1:"
        text = self.wait_for(f"kilnd-{self.generation}", re.escape(ready), 60)
        self.port = int(text[text.index(ready) + len(ready):].split()[0])

    def start_agents(self):
        for r in self.racks:
            log = open(self.log(f"agent-{r}"), "a")
            self.agents.append(subprocess.Popen(
                [self.exe("kiln-agent"), "--rack", r, "--daemon", f"127.0.0.1:{self.port}", "--token-file",
                 os.path.join(self.work, f"{r}.token"), "--lab", self.lab_file, "--skus",
                 os.path.join(ROOT, "device/skus"), "--spool", os.path.join(self.work, f"spool-{r}")],
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT))

    def wait_for(self, name, pattern, timeout_s, count=1):
        until = time.monotonic() + timeout_s
        while time.monotonic() < until:
            try:
                with open(self.log(name)) as f:
                    content = f.read()
                if len(re.findall(pattern, content)) >= count:
                    return content
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{name}: no '{pattern}' (x{count}) within {timeout_s} s")

    def client(self, *words):
        return subprocess.run([self.exe("kiln"), "--daemon", f"127.0.0.1:{self.port}", "--token-file",
                               os.path.join(self.work, "admin.token"), *words],
                              capture_output=True, text=True, cwd=ROOT)

    def _watch_rss(self):
        while self._watching:
            proc = self.kilnd
            if proc and proc.poll() is None:
                try:
                    with open(f"/proc/{proc.pid}/status") as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                self.peak_rss_mib = max(self.peak_rss_mib, int(line.split()[1]) / 1024.0)
                except (FileNotFoundError, ProcessLookupError):
                    pass
            time.sleep(0.2)

    def stop(self):
        self._watching = False
        for p in self.agents + ([self.kilnd] if self.kilnd else []):
            if p.poll() is None:
                p.terminate()
        for p in self.agents + ([self.kilnd] if self.kilnd else []):
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()

def credentials(work, racks):
    yaml = "credentials:\n"
    for who in racks + ["admin"]:
        secret = secrets.token_hex(24)
        private(os.path.join(work, f"{who}.token"), secret + "\n")
        yaml += (f"  - {{name: admin, role: admin, secret: {secret}}}\n" if who == "admin" else
                 f"  - {{name: rack-{who}, rack: {who}, secret: {secret}}}\n")
    private(os.path.join(work, "credentials.yaml"), yaml)

def run_lab(args, work, name, time_scale, kills):
    """One lab run of the plan; `kills` kill -9s of kilnd spread over it."""
    racks = [f"r{r + 1:02d}" for r in range(args.racks)]
    lab_file = os.path.join(work, f"{name}.yaml")
    with open(lab_file, "w") as f:
        f.write(lab_yaml(args.racks, time_scale))
    db = os.path.join(work, f"{name}.db")
    lab = Lab(args, work, db, lab_file, racks)
    recoveries = []
    started = time.monotonic()
    try:
        lab.start_kilnd()
        lab.start_agents()
        lab.wait_for(f"kilnd-{lab.generation}", REGISTERED, 120, count=len(racks))
        submitted = lab.client("run", "submit", os.path.join(work, "plan.yaml"), "--seed", "7")
        if submitted.returncode != 0:
            raise RuntimeError(f"submit: {submitted.stderr}")
        run_started = time.monotonic()
        interval = args.minutes * 60.0 / (kills + 1)
        for k in range(kills):
            time.sleep(max(0.0, run_started + interval * (k + 1) - time.monotonic()))
            done = open(lab.log(f"kilnd-{lab.generation}")).read().find("run 1 completed") >= 0
            if done:
                break
            lab.kilnd.kill()
            lab.kilnd.wait()
            killed = time.monotonic()
            lab.start_kilnd()
            lab.wait_for(f"kilnd-{lab.generation}", REGISTERED, 120, count=len(racks))
            recoveries.append(round(time.monotonic() - killed, 3))
            print(f"chaos: kill {k + 1}/{kills}: every rack back in {recoveries[-1]} s", file=sys.stderr)
        lab.wait_for(f"kilnd-{lab.generation}", "run 1 completed", args.minutes * 60 * 4 + 600)
    finally:
        lab.stop()
    return db, recoveries, time.monotonic() - started, lab.peak_rss_mib

def samples(args, db, work, name):
    """Sorted 'serial,step,t_s,metric,value' lines of run 1, and the key counts."""
    out = os.path.join(work, f"{name}.samples")
    with open(out, "w") as f:
        kiln = subprocess.Popen([os.path.join(args.bin, "kiln"), "--db", db, "telemetry", "1", "--format", "csv"],
                                stdout=subprocess.PIPE, cwd=ROOT)
        cut = subprocess.Popen(["cut", "-d,", "-f1,2,3,5,6"], stdin=kiln.stdout, stdout=subprocess.PIPE)
        sort = subprocess.Popen(["sort", "-S", "256M"], stdin=cut.stdout, stdout=f, env={**os.environ, "LC_ALL": "C"})
        kiln.stdout.close()
        cut.stdout.close()
        sort.wait()
        if kiln.wait() != 0:
            raise RuntimeError(f"kiln telemetry --db {db} failed")
    return out

def lines(path, keep=lambda fields: True, key_only=False):
    with open(path) as f:
        next(f, None)  # the header sorts among the lines; it is skipped by its name below
        for line in f:
            fields = line.rstrip("\n").split(",")
            if fields[0] == "serial" or not keep(fields):
                continue
            yield ",".join(fields[:4]) if key_only else ",".join(fields)

def compare(chaotic, reference):
    got_keys = list(lines(chaotic, key_only=True))
    want_keys = set(lines(reference, key_only=True))
    duplicated = len(got_keys) - len(set(got_keys))
    got_set = set(got_keys)
    gemm = lambda fields: fields[1] == "gemm-bf16"
    got_values, want_values = set(lines(chaotic, gemm)), set(lines(reference, gemm))
    return {
        "samples_uninterrupted": len(want_keys),
        "samples_chaotic": len(got_keys),
        "lost": len(want_keys - got_set),
        "extra": len(got_set - want_keys),
        "duplicated": duplicated,
        "changed_gemm_values": len(want_values - got_values),
    }

def verdicts(args, db):
    report = subprocess.run([os.path.join(args.bin, "kiln"), "--db", db, "report", "1", "--format", "json"],
                            capture_output=True, text=True, cwd=ROOT, check=True)
    r = json.loads(report.stdout)
    chips = {c["serial"]: (c["verdict"], sorted((f["class"], f["step"], f.get("core"), str(f.get("pe")), f.get("bit"))
                                                 for f in c.get("failures", [])))
             for c in r["chips"]}
    return r["run"]["status"], chips

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, "build/default/bin"))
    parser.add_argument("--racks", type=int, default=64)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="kiln-chaos-")
    racks = [f"r{r + 1:02d}" for r in range(args.racks)]
    credentials(work, racks)
    with open(os.path.join(work, "plan.yaml"), "w") as f:
        f.write(plan_yaml(args.minutes))
    chaotic_db, recoveries, chaotic_wall, peak = run_lab(args, work, "chaotic", 1, args.kills)
    reference_db, _, reference_wall, _ = run_lab(args, work, "uninterrupted", 600, 0)
    status, chaotic_verdicts = verdicts(args, chaotic_db)
    _, reference_verdicts = verdicts(args, reference_db)
    with sqlite3.connect(f"file:{chaotic_db}?mode=ro", uri=True) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    counts = compare(samples(args, chaotic_db, work, "chaotic"), samples(args, reference_db, work, "uninterrupted"))
    failing = sorted(s for s, (v, _) in chaotic_verdicts.items() if v != "pass")
    result = {
        "racks": args.racks, "chips": len(chaotic_verdicts), "simulated_minutes": args.minutes,
        "kills": len(recoveries), "run_status": status, **counts,
        "verdicts_equal": chaotic_verdicts == reference_verdicts, "failing_chips": failing,
        "integrity_check": integrity,
        "recovery_s": recoveries,
        "recovery_s_max": max(recoveries) if recoveries else None,
        "recovery_s_median": sorted(recoveries)[len(recoveries) // 2] if recoveries else None,
        "kilnd_peak_rss_mib": round(peak, 1),
        "chaotic_wall_s": round(chaotic_wall, 1), "uninterrupted_wall_s": round(reference_wall, 1),
    }
    print(json.dumps(result, indent=2))
    if not args.keep:
        subprocess.run(["rm", "-rf", work])
    else:
        print(f"chaos: scratch kept in {work}", file=sys.stderr)
    ok = (status == "completed" and counts["lost"] == 0 and counts["duplicated"] == 0 and counts["extra"] == 0
          and counts["changed_gemm_values"] == 0 and result["verdicts_equal"] and integrity == "ok")
    return 0 if ok else 1

if __name__ == "__main__":
    sys.exit(main())
