"""The peer comparison (bench.py --peer-size N): the member-side work over N accounts by orgtrail
and by botocove (bench/peer/botocove_peer.py, pinned in bench/.venv-peer), in the same run on the
same emulator, after one `orgtrail apply` put the organization trail in place.

orgtrail's side is `orgtrail verify` (discovery, the central checks, and per member account the
member check: AssumeRole, ListRegions, ListTrails, the organization trail's status and selectors);
botocove's side lists the organization's accounts (it always calls ListAccounts) and makes the same
member calls per account with 32 threads. Each goes through its own zero-latency fault proxy, which
counts the calls by operation; the emulator's CPU time is read around each. Printed: both walls, the
ratio, CPU, calls by operation. Standard library only.
"""
import json
import shutil
import subprocess
from pathlib import Path

from common import Proxy, Sandbox, Timed, cpu_seconds, loadavg, log, orgtrail_env

PEER_DIR = Path(__file__).resolve().parent / "peer"
PROXY_NAMES = {"Account.POST /listRegions": "Account.ListRegions"}  # the proxy names REST-JSON calls by path


def install_peer():
    subprocess.run(["bash", str(PEER_DIR / "install.sh")], check=True)
    return PEER_DIR.parent / ".venv-peer" / "bin" / "python"


def calls(stats):
    return {PROXY_NAMES.get(op, op): s["requests"] for op, s in sorted(stats.items())}


def side(name, cmd, env, sb, bins, out_path):
    proxy = Proxy(bins, sb.endpoint, 0)
    env = dict(env, AWS_ENDPOINT_URL=proxy.url)
    moto0 = cpu_seconds(sb.moto_pid)
    p = Timed([c.replace("{endpoint}", proxy.url) for c in cmd], env, out_path)
    rc = p.wait()
    emu = cpu_seconds(sb.moto_pid) - moto0
    stats = proxy.stop()
    log(f"peer: {name} exited {rc} after {p.wall:.1f}s (emulator CPU {emu:.1f}s)")
    if rc not in (0, 1):
        log(f"peer: {name} stderr tail: {[l for _, l in p.lines[-5:]]}")
    return {"exit_code": rc, "wall_seconds": round(p.wall, 2), "cpu_seconds": round(p.cpu, 1), "peak_rss_mib": round(p.maxrss_kib / 1024, 1),
            "emulator_cpu_seconds": round(emu, 1), "by_operation": calls(stats), "api_calls": sum(s["requests"] for s in stats.values())}


def run_peer(args, bins, n, work):
    python = install_peer()
    res = {"accounts": n, "load_before": loadavg()}
    log(f"peer: seeding {n} accounts")
    sb = Sandbox(bins, n, work, not args.plain_moto)
    res["seed_seconds"] = round(sb.seed_seconds, 1)
    try:
        org = json.loads((sb.dir / "org.json").read_text())
        trail = f"arn:aws:cloudtrail:us-east-1:{org['management_account']}:trail/orgtrail"
        state = sb.dir / "state"
        shutil.rmtree(state, ignore_errors=True)  # a state of an earlier run's organization is refused
        base = [str(bins / "orgtrail"), "--config", str(sb.dir / "orgtrail.toml"), "--state-dir", str(state), "--endpoint-url"]
        setup = Timed(base + [sb.endpoint, "--json", "apply", "--no-progress"], orgtrail_env(), sb.dir / "peer-apply.json")
        rc = setup.wait()
        log(f"peer: apply (setup) exited {rc} after {setup.wall:.1f}s")
        if rc not in (0, 3):  # 3: converged but for the manual MFA Delete step
            raise SystemExit(f"peer: the setup apply failed (exit {rc}): {[l for _, l in setup.lines[-3:]]}")
        res["orgtrail"] = side("orgtrail verify", base + ["{endpoint}", "verify", "--format", "json", "--output", str(sb.dir / "verify.json")],
                               orgtrail_env(), sb, bins, sb.dir / "verify.out")
        env = orgtrail_env({"AWS_DEFAULT_REGION": "us-east-1"})
        res["botocove"] = side("botocove", [str(python), str(PEER_DIR / "botocove_peer.py"), "--trail-arn", trail, "--threads", "32"],
                               env, sb, bins, sb.dir / "botocove.json")
        out = (sb.dir / "botocove.json").read_text().strip()
        res["botocove"]["report"] = json.loads(out.splitlines()[-1]) if out else None
        res["ratio"] = round(res["botocove"]["wall_seconds"] / res["orgtrail"]["wall_seconds"], 1)
        res["cpu_ratio"] = round(res["botocove"]["cpu_seconds"] / max(0.1, res["orgtrail"]["cpu_seconds"]), 1)
        res["load_after"] = loadavg()
    finally:
        sb.stop()
    return res


def peer_table(r):
    o, b = r["orgtrail"], r["botocove"]
    rows = [("wall (s)", o["wall_seconds"], b["wall_seconds"]), ("CPU of the tool (s)", o["cpu_seconds"], b["cpu_seconds"]),
            ("peak RSS (MiB)", o["peak_rss_mib"], b["peak_rss_mib"]), ("emulator CPU (s)", o["emulator_cpu_seconds"], b["emulator_cpu_seconds"]),
            ("API calls", o["api_calls"], b["api_calls"])]
    out = [f"peer comparison, {r['accounts']} member accounts: botocove / orgtrail wall = **{r['ratio']}x** (CPU {r['cpu_ratio']}x); "
           f"load {r['load_before'][0]} before, {r['load_after'][0]} after", "", "| | orgtrail verify | botocove 1.7.4 (32 threads) |", "|---|---|---|"]
    out += [f"| {name} | {a} | {c} |" for name, a, c in rows]
    for op in sorted(set(o["by_operation"]) | set(b["by_operation"])):
        out.append(f"| {op} | {o['by_operation'].get(op, 0)} | {b['by_operation'].get(op, 0)} |")
    return "\n".join(out)
