#!/usr/bin/env python3
"""orgtrail rollout benchmark against the sandbox organization (driven by bench/run.sh).

Per size N: `sandbox up` seeds N member accounts in the (patched) moto emulator, `fault-proxy` adds
a fixed latency to every call, and `orgtrail apply --json` rolls the sandbox config's three waves
out through the proxy. Printed per run: wall time, API calls by operation, calls/s, orgtrail's peak
RSS (wait4 rusage of that process alone), the latency lower bound and the ratio to it, the
emulator's own service time (moto CPU seconds during the run) and optionally a run without latency.

Resume (--resume-size, default the largest size): that size's rollout is killed with SIGKILL once
half of its member accounts are done, then `apply` is run again; the time from its start to the
first member account starting (state opened, run and plan loaded, done accounts skipped) is the
resume time. The resumed invocation finishes the rollout, so that size's wall time is the sum of
the two invocations.

Standard library only. See docs/performance.md for the model behind the lower bound.
"""
import argparse
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

MEMBER_OPS = ["STS.AssumeRole", "Account.ListRegions", "CloudTrail.DescribeTrails", "CloudTrail.GetTrailStatus", "CloudTrail.GetEventSelectors"]
REGION_CONCURRENCY = 4  # orchestrator/src/steps/member_checks.rs REGION_CONCURRENCY
ORG_RATE = 10  # access.organizations_calls_per_second default (sandbox config does not set it)


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg():
    return Path("/proc/loadavg").read_text().split()[:3]


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), 0)
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(mem / 1024 / 1024, 1), "kernel": os.uname().release}


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


class Timed:
    """A child process whose stderr lines are timestamped on arrival (seconds since spawn)."""

    def __init__(self, cmd, env, stdout_path):
        self.lines = []
        self.start = time.monotonic()
        self.stdout = open(stdout_path, "wb")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.stdout, stderr=subprocess.PIPE)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            self.lines.append((time.monotonic() - self.start, raw.decode(errors="replace").rstrip()))

    def wait(self):
        _, status, usage = os.wait4(self.proc.pid, 0)
        self.wall = time.monotonic() - self.start
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        self.reader.join(5)
        self.stdout.close()
        self.maxrss_kib = usage.ru_maxrss
        self.cpu = usage.ru_utime + usage.ru_stime
        return self.proc.returncode

    def first(self, pattern):
        rx = re.compile(pattern)
        return next(((t, l) for t, l in self.lines if rx.search(l)), (None, None))


class Sandbox:
    def __init__(self, bins, n, work, moto_perf):
        self.dir = work / f"org-{n}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = dict(os.environ)
        if moto_perf:
            here = str(Path(__file__).resolve().parent / "moto_perf")
            env["PYTHONPATH"] = here + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            env["ORGTRAIL_BENCH_MOTO_PERF"] = "1"
        self.err_path = self.dir / "sandbox.err"
        t0 = time.monotonic()
        self.proc = subprocess.Popen([str(bins / "sandbox"), "up", "--accounts", str(n), "--dir", str(self.dir), "--port", str(self.port)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=open(self.err_path, "wb"))
        while "sandbox: running" not in self.err_path.read_text(errors="replace"):
            if self.proc.poll() is not None:
                raise SystemExit(f"sandbox exited: {self.err_path.read_text()}")
            time.sleep(0.5)
        self.seed_seconds = time.monotonic() - t0
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.moto_pid = children(self.proc.pid)[0]

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Proxy:
    def __init__(self, bins, upstream, latency_ms):
        self.proc = subprocess.Popen([str(bins / "fault-proxy"), "--upstream", upstream, "--latency-ms", str(latency_ms)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.url = self.proc.stdout.readline().decode().strip()

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            _, err = self.proc.communicate(timeout=10)
            return json.loads(err.decode() or "{}")
        except Exception:
            self.proc.kill()
            return {}


def orgtrail_env(extra=None):
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true", "ORGTRAIL_LOG": "warn,orgtrail=info"})
    env.pop("AWS_PROFILE", None)
    env.update(extra or {})
    return env


def apply_cmd(bins, sb, state_dir, endpoint, new_run=False):
    cmd = [str(bins / "orgtrail"), "--config", str(sb.dir / "orgtrail.toml"), "--state-dir", str(state_dir), "--json",
           "--endpoint-url", endpoint, "apply", "--no-progress"]
    return cmd + (["--new-run"] if new_run else [])


def done_accounts(state_dir):
    """Member accounts whose member-checks step is done, read from the state while apply runs."""
    db = state_dir / "state.db"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM records WHERE step = 'member-checks' AND kind = 'done'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def latest_plan(state_dir):
    con = sqlite3.connect(f"file:{state_dir / 'state.db'}?mode=ro", uri=True)
    try:
        (plan,) = con.execute("SELECT plan_json FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        con.close()
    return json.loads(plan)


def merge_ops(parts):
    ops = {}
    for p in parts:
        for op, c in p["api_calls"]["by_operation"].items():
            o = ops.setdefault(op, {"calls": 0, "attempts": 0, "throttled": 0, "errors": 0})
            for k in o:
                o[k] += c.get(k, 0)
    return ops


def lower_bound(ops, plan, latency_s):
    """The latency lower bound of a rollout (docs/performance.md, "Lower bound")."""
    waves = [(w["name"], len(w["accounts"]), max(1, w["max_concurrency"])) for w in plan["waves"]]
    return lower_bound_of(ops, waves, latency_s)


def lower_bound_of(ops, waves, latency_s):
    accounts = sum(n for _, n, _ in waves)
    per = {op: ops.get(op, {}).get("calls", 0) / max(1, accounts) for op in MEMBER_OPS}
    depth = (round(per["STS.AssumeRole"]) + round(per["Account.ListRegions"]) + math.ceil(round(per["CloudTrail.DescribeTrails"]) / REGION_CONCURRENCY)
             + round(per["CloudTrail.GetTrailStatus"]) + round(per["CloudTrail.GetEventSelectors"]))
    # Central steps and start-up: every call of an operation members never make (their few
    # member-operation calls are left out, so this stays a lower bound; so are calls redone after a kill).
    org = sum(o["calls"] for op, o in ops.items() if op.startswith("Organizations."))
    other = sum(o["calls"] for op, o in ops.items() if op not in MEMBER_OPS and not op.startswith("Organizations."))
    rounds = sum(math.ceil(n / c) for _, n, c in waves)
    wave_s = rounds * depth * latency_s
    # Organizations calls wait for orgtrail's client-side limit (ORG_RATE/s, with a burst of ORG_RATE):
    # discovery walks OUs concurrently, so the limit, not the latency, bounds them.
    org_s = max(latency_s, (org - ORG_RATE) / ORG_RATE) if org else 0.0
    return {
        "accounts": accounts, "depth_calls_per_account": depth, "wave_rounds": rounds,
        "waves": [{"wave": w, "accounts": n, "max_concurrency": c, "rounds": math.ceil(n / c)} for w, n, c in waves],
        "central_and_startup_calls": other, "organizations_calls": org,
        "critical_path_calls": rounds * depth + other + org,
        "seconds": wave_s + other * latency_s + org_s,
        "parts": {"waves": wave_s, "central_and_startup": other * latency_s, "organizations": org_s},
    }


def run_size(args, bins, n, work):
    res = {"accounts": n, "latency_ms": args.latency_ms, "load_before": loadavg()}
    log(f"{n} accounts: seeding the sandbox organization")
    sb = Sandbox(bins, n, work, not args.plain_moto)
    res["seed_seconds"] = round(sb.seed_seconds, 1)
    log(f"{n} accounts: seeded in {sb.seed_seconds:.1f}s; moto pid {sb.moto_pid}")
    try:
        proxy = Proxy(bins, sb.endpoint, args.latency_ms)
        state = sb.dir / "state"
        shutil.rmtree(state, ignore_errors=True)  # a state of an earlier run's organization is refused
        moto0 = cpu_seconds(sb.moto_pid)
        parts = []
        p = Timed(apply_cmd(bins, sb, state, proxy.url), orgtrail_env(), sb.dir / "apply-1.json")
        killed_at = None
        if n == args.resume_size:
            while p.proc.poll() is None:
                done = done_accounts(state)
                if done >= n // 2:
                    p.proc.send_signal(signal.SIGKILL)
                    killed_at = done
                    break
                time.sleep(0.5)
        rc = p.wait()
        parts.append(p)
        log(f"{n} accounts: apply exited {rc} after {p.wall:.1f}s" + (f" (SIGKILL at {killed_at} accounts done)" if killed_at else ""))
        if killed_at is not None:
            r = Timed(apply_cmd(bins, sb, state, proxy.url), orgtrail_env(), sb.dir / "apply-2.json")
            rc = r.wait()
            parts.append(r)
            t_loaded, l_loaded = r.first(r"state and plan loaded in")
            t_first, l_first = r.first(r"wave \S+: \d+ accounts to do")
            res["resume"] = {
                "killed_with_accounts_done": killed_at,
                "seconds_to_first_member_call": round(t_first, 3) if t_first is not None else None,
                "seconds_to_state_and_plan_loaded": round(t_loaded, 3) if t_loaded is not None else None,
                "loaded_line": l_loaded, "first_wave_line": l_first,
                "note": "from process start; includes config load, state open and lock, STS.GetCallerIdentity and "
                        "Organizations.DescribeOrganization (2 calls through the proxy's latency), skipping done central steps",
            }
            log(f"{n} accounts: resume: first member call {t_first}s after start; apply exited {rc} after {r.wall:.1f}s")
        moto_cpu = cpu_seconds(sb.moto_pid) - moto0
        res["proxy_stats"] = proxy.stop()
        reports = [json.loads(Path(sb.dir / f"apply-{i + 1}.json").read_text()) for i in range(len(parts)) if Path(sb.dir / f"apply-{i + 1}.json").stat().st_size]
        if killed_at is None:
            ops = merge_ops(reports)
        else:
            # The killed invocation printed no report: count both invocations' calls at the proxy.
            names = {"Account.POST /listRegions": "Account.ListRegions"}  # the proxy names REST-JSON calls by path
            ops = {names.get(op, op): {"calls": s["requests"], "attempts": s["requests"], "throttled": s["throttled"], "errors": 0}
                   for op, s in res["proxy_stats"].items()}
        total = sum(o["calls"] for o in ops.values())
        wall = sum(x.wall for x in parts)
        plan = latest_plan(state)
        lb = lower_bound(ops, plan, args.latency_ms / 1000)
        emu = moto_cpu
        res.update({
            "exit_codes": [x.proc.returncode for x in parts],
            "outcome": reports[-1]["report"]["outcome"] if reports else None,
            "wall_seconds": round(wall, 2),
            "invocations_wall_seconds": [round(x.wall, 2) for x in parts],
            "api_calls": total,
            "calls_per_second": round(total / wall, 1),
            "peak_rss_mib": round(max(x.maxrss_kib for x in parts) / 1024, 1),
            "orgtrail_cpu_seconds": round(sum(x.cpu for x in parts), 1),
            "by_operation": ops,
            "lower_bound": lb,
            "ratio_to_latency_bound": round(wall / lb["seconds"], 2),
            "emulator_cpu_seconds": round(emu, 1),
            "emulator_ms_per_call": round(1000 * emu / max(1, total), 2),
            "ratio_to_max_bound": round(wall / max(lb["seconds"], emu), 2),
            "load_after": loadavg(),
        })
        if args.zero_latency and n in args.zero_latency:
            log(f"{n} accounts: the same rollout again (--new-run) straight to the emulator, no latency")
            moto0 = cpu_seconds(sb.moto_pid)
            z = Timed(apply_cmd(bins, sb, state, sb.endpoint, new_run=True), orgtrail_env(), sb.dir / "apply-zero.json")
            z.wait()
            zr = json.loads(Path(sb.dir / "apply-zero.json").read_text())
            zc = zr["api_calls"]["total"]["calls"]
            zcpu = cpu_seconds(sb.moto_pid) - moto0
            res["zero_latency"] = {"wall_seconds": round(z.wall, 2), "api_calls": zc, "calls_per_second": round(zc / z.wall, 1),
                                   "emulator_cpu_seconds": round(zcpu, 1), "emulator_ms_per_call": round(1000 * zcpu / max(1, zc), 2),
                                   "orgtrail_cpu_seconds": round(z.cpu, 1), "peak_rss_mib": round(z.maxrss_kib / 1024, 1), "exit_code": z.proc.returncode}
    finally:
        sb.stop()
    return res


def table(results):
    rows = [("accounts", lambda r: r["accounts"]), ("seed (s)", lambda r: r["seed_seconds"]), ("wall (s)", lambda r: r["wall_seconds"]),
            ("API calls", lambda r: r["api_calls"]), ("calls/s", lambda r: r["calls_per_second"]),
            ("peak RSS orgtrail (MiB)", lambda r: r["peak_rss_mib"]), ("orgtrail CPU (s)", lambda r: r["orgtrail_cpu_seconds"]),
            ("critical-path calls", lambda r: r["lower_bound"]["critical_path_calls"]),
            ("latency lower bound (s)", lambda r: round(r["lower_bound"]["seconds"], 1)),
            ("wall / latency bound", lambda r: r["ratio_to_latency_bound"]),
            ("emulator CPU (s)", lambda r: r["emulator_cpu_seconds"]), ("emulator ms/call", lambda r: r["emulator_ms_per_call"]),
            ("wall / max(bounds)", lambda r: r["ratio_to_max_bound"]),
            ("no-latency wall (s)", lambda r: r.get("zero_latency", {}).get("wall_seconds", "-")),
            ("no-latency calls/s", lambda r: r.get("zero_latency", {}).get("calls_per_second", "-")),
            ("resume to first member call (s)", lambda r: r.get("resume", {}).get("seconds_to_first_member_call", "-")),
            ("load avg before/after", lambda r: f"{r['load_before'][0]}/{r['load_after'][0]}")]
    out = ["| metric | " + " | ".join(f"{r['accounts']:,} accounts" for r in results) + " |", "|---|" + "---|" * len(results)]
    for name, f in rows[1:]:
        out.append(f"| {name} | " + " | ".join(str(f(r)) for r in results) + " |")
    ops = sorted({op for r in results for op in r["by_operation"]})
    out += ["", "| API calls by operation | " + " | ".join(f"{r['accounts']:,}" for r in results) + " |", "|---|" + "---|" * len(results)]
    for op in ops:
        out.append(f"| {op} | " + " | ".join(str(r["by_operation"].get(op, {}).get("calls", 0)) for r in results) + " |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--resume-size", type=int, default=None, help="the size whose run is killed half-way and resumed (default: the largest; 0: none)")
    ap.add_argument("--zero-latency", default="1000", help="sizes also run once straight to the emulator (comma-separated; '' for none)")
    ap.add_argument("--plain-moto", action="store_true", help="without bench/moto_perf (moto's O(accounts) key lookup per call)")
    ap.add_argument("--bin", default="target/release")
    ap.add_argument("--work", default="target/bench")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument("--report", default=None, help="only print the summary of an earlier results JSON (lower bound recomputed)")
    args = ap.parse_args()
    if args.report:
        results = json.loads(Path(args.report).read_text())
        for r in results["runs"]:
            waves = [(w["wave"], w["accounts"], w["max_concurrency"]) for w in r["lower_bound"]["waves"]]
            r["lower_bound"] = lower_bound_of(r["by_operation"], waves, r["latency_ms"] / 1000)
            r["ratio_to_latency_bound"] = round(r["wall_seconds"] / r["lower_bound"]["seconds"], 2)
            r["ratio_to_max_bound"] = round(r["wall_seconds"] / max(r["lower_bound"]["seconds"], r["emulator_cpu_seconds"]), 2)
        summary(results)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    args.resume_size = max(sizes) if args.resume_size is None else args.resume_size
    args.zero_latency = [int(s) for s in args.zero_latency.split(",") if s]
    bins = Path(args.bin).resolve()
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S"), "moto_perf_patch": not args.plain_moto, "runs": []}
    log(f"machine: {results['machine']}; load {loadavg()}")
    for n in sizes:
        results["runs"].append(run_size(args, bins, n, work))
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=2))
    summary(results)


def summary(results):
    print(json.dumps({k: v for k, v in results.items() if k != "runs"}))
    for r in results["runs"]:
        lb = r["lower_bound"]
        print(f"\n== {r['accounts']} accounts, {r['latency_ms']} ms per call: wall {r['wall_seconds']} s, {r['api_calls']} calls, "
              f"{r['calls_per_second']} calls/s, peak RSS {r['peak_rss_mib']} MiB, outcome {r['outcome']}, exit {r['exit_codes']}")
        print(f"   lower bound {lb['seconds']:.1f} s = waves {lb['parts']['waves']:.1f} ({lb['wave_rounds']} rounds x {lb['depth_calls_per_account']} calls) "
              f"+ central/startup {lb['parts']['central_and_startup']:.1f} ({lb['central_and_startup_calls']} calls) + Organizations {lb['parts']['organizations']:.1f} "
              f"({lb['organizations_calls']} calls, {ORG_RATE}/s limit); ratio {r['ratio_to_latency_bound']}")
        print(f"   emulator CPU {r['emulator_cpu_seconds']} s ({r['emulator_ms_per_call']} ms/call); wall / max(bounds) {r['ratio_to_max_bound']}")
        if "resume" in r:
            print(f"   resume: {r['resume']}")
        if "zero_latency" in r:
            print(f"   no latency: {r['zero_latency']}")
    print()
    print(table(results["runs"]))


if __name__ == "__main__":
    main()
