"""Process helpers shared by the benchmarks (bench.py, peer.py, discovery.py): the sandbox
organization, the fault proxy, timed child processes, CPU and load readings. Standard library only.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


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

    def running(self):
        """Whether the process still runs, without reaping it (wait() reads its rusage)."""
        return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None

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

    @classmethod
    def attach(cls, bins, n, work, port):
        """A sandbox of n members already seeded (`sandbox up --dir work/org-N --port PORT`, its
        stderr in work/org-N/sandbox.err), so a 10,000-account seeding can start before the release build ends."""
        self = cls.__new__(cls)
        self.dir, self.port, self.proc = work / f"org-{n}", port, None
        self.err_path = self.dir / "sandbox.err"
        log(f"attaching to the sandbox in {self.dir} (port {port})")
        while "sandbox: running" not in self.err_path.read_text(errors="replace"):
            time.sleep(2)
        seeded = re.search(r"members\) in ([0-9.]+)s", self.err_path.read_text(errors="replace"))
        self.seed_seconds = float(seeded.group(1)) if seeded else float("nan")
        self.endpoint = f"http://127.0.0.1:{port}"
        self.moto_pid = next(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p).endswith(f"-p {port}"))
        return self

    def stop(self):
        if self.proc is None:
            return  # attached: its owner stops it
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _cmdline(p):
    try:
        return (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


class Proxy:
    def __init__(self, bins, upstream, latency_ms, throttle_rate=0.0, seed=1):
        self.proc = subprocess.Popen([str(bins / "fault-proxy"), "--upstream", upstream, "--latency-ms", str(latency_ms),
                                      "--throttle-rate", str(throttle_rate), "--seed", str(seed)],
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
