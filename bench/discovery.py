"""Discovery figures (bench.py --discovery SIZES, --throttled-discovery SIZES): `orgtrail accounts
--no-tags --json` over the seeded organization through the fault proxy (the run's latency), once
as is and, for the throttled sizes, once more with the proxy answering 30% of the requests with
the service's throttling error (seeded, rate-independent). Printed: wall, Organizations calls,
attempts and throttles absorbed, accounts found, and throttled / unthrottled wall (target <= 3).
Standard library only.
"""
import json

from common import Proxy, Timed, loadavg, log, orgtrail_env


def measure(bins, sb, latency_ms, throttle_rate, tag):
    proxy = Proxy(bins, sb.endpoint, latency_ms, throttle_rate=throttle_rate, seed=30)
    out = sb.dir / f"accounts-{tag}.json"
    load = loadavg()
    p = Timed([str(bins / "orgtrail"), "--config", str(sb.dir / "orgtrail.toml"), "--endpoint-url", proxy.url, "--json", "accounts", "--no-tags"],
              orgtrail_env(), out)
    rc = p.wait()
    proxy.stop()
    text = out.read_text()
    report = json.loads(text) if text.strip() else {}
    ops = report.get("api_calls", {}).get("by_operation", {})
    total = {k: sum(c.get(k, 0) for c in ops.values()) for k in ("calls", "attempts", "throttled", "errors")}
    res = {"throttle_rate": throttle_rate, "exit_code": rc, "wall_seconds": round(p.wall, 2), "accounts": len(report.get("accounts", [])),
           "peak_rss_mib": round(p.maxrss_kib / 1024, 1), "load": load, **total}
    log(f"discovery ({tag}): exit {rc}, {res['accounts']} accounts in {p.wall:.1f}s; {total}")
    return res


def run_discovery(args, bins, sb, n):
    res = {"plain": measure(bins, sb, args.latency_ms, 0.0, "plain")}
    if n in args.throttled_discovery:
        res["throttled"] = measure(bins, sb, args.latency_ms, 0.3, "throttled")
        res["throttled_over_plain"] = round(res["throttled"]["wall_seconds"] / res["plain"]["wall_seconds"], 2)
    return res


def discovery_table(runs):
    runs = [r for r in runs if "discovery" in r]
    if not runs:
        return ""
    out = ["| `accounts --no-tags` (50 ms proxy) | " + " | ".join(f"{r['accounts']:,} accounts" for r in runs) + " |", "|---|" + "---|" * len(runs)]

    def row(name, f):
        out.append(f"| {name} | " + " | ".join(str(f(r["discovery"])) for r in runs) + " |")

    row("wall (s)", lambda d: d["plain"]["wall_seconds"])
    row("Organizations calls", lambda d: d["plain"]["calls"])
    row("accounts listed", lambda d: d["plain"]["accounts"])
    row("load average at start", lambda d: d["plain"]["load"][0])
    row("30% throttled: wall (s)", lambda d: d.get("throttled", {}).get("wall_seconds", "-"))
    row("30% throttled: calls / attempts / throttles absorbed", lambda d: "/".join(str(d["throttled"][k]) for k in ("calls", "attempts", "throttled")) if "throttled" in d else "-")
    row("30% throttled: exit code, accounts listed", lambda d: f"{d['throttled']['exit_code']}, {d['throttled']['accounts']}" if "throttled" in d else "-")
    row("**throttled / unthrottled wall**", lambda d: f"**{d['throttled_over_plain']}**" if "throttled" in d else "-")
    return "\n".join(out)
