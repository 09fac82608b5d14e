#!/usr/bin/env python3
"""npte benchmarks against the peers, in one run, over loopback only.

Scenarios (each bounded in time):
  tcp   host -> namespace TCP throughput, iperf3 single stream
  conn  sequential connect / 1-byte request / 1-byte reply / close (connrate)
Helpers: direct (no forwarder), npte (builtin), rootlesskit (builtin port driver).
Prints a table with ratios and writes raw JSON to --out.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


class Helper:
    """Runs a server command inside a namespace with a forwarded port."""

    def __init__(self, kind, npte, server_cmd, inner_port):
        self.kind = kind
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="npte-bench-")
        spec = "127.0.0.1:%d:%d/tcp" % (self.port, inner_port)
        if kind == "npte":
            args = [npte, "run", "--state-dir", self.tmp + "/s", "-p", spec, "--"] + server_cmd
        elif kind == "rootlesskit":
            args = ["rootlesskit", "--state-dir", self.tmp + "/s", "--net=slirp4netns",
                    "--disable-host-loopback", "--port-driver=builtin", "-p", spec,
                    "--"] + server_cmd
        else:  # direct: the server on the host itself, on the forwarded port
            self.port = inner_port
            args = server_cmd
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def rss_kib(self):
        """VmHWM summed over the helper's processes (not the payload's)."""
        total = 0
        pids = [self.proc.pid]
        try:
            kids = open("/proc/%d/task/%d/children" % (pids[0], pids[0])).read().split()
            pids += [int(k) for k in kids]
        except OSError:
            pass
        for pid in pids:
            try:
                comm = open("/proc/%d/comm" % pid).read().strip()
                if comm not in ("npte", "rootlesskit", "slirp4netns", "exe"):
                    continue
                for line in open("/proc/%d/status" % pid):
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total


def bench_tcp(kind, npte, seconds):
    inner = free_port() if kind == "direct" else 5201
    h = Helper(kind, npte, ["iperf3", "-s", "-p", str(inner)], inner)
    try:
        time.sleep(1.0)
        r = None
        for _ in range(20):
            r = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(h.port), "-t", str(seconds),
                                "-J"], capture_output=True, text=True, timeout=seconds + 30)
            if r.returncode == 0:
                break
            time.sleep(0.5)
        data = json.loads(r.stdout)
        gbps = data["end"]["sum_received"]["bits_per_second"] / 1e9
        return {"gbps": gbps, "rss_kib": h.rss_kib() if kind != "direct" else 0}
    finally:
        h.stop()


def bench_conn(kind, npte, connrate, count):
    inner = free_port() if kind == "direct" else 7777
    h = Helper(kind, npte, [connrate, "server", "127.0.0.1", str(inner), "120"], inner)
    try:
        time.sleep(1.0)
        for _ in range(50):
            r = subprocess.run([connrate, "client", "127.0.0.1", str(h.port), "50"],
                               capture_output=True, text=True, timeout=60)
            if r.returncode == 0:
                break
            time.sleep(0.2)
        r = subprocess.run([connrate, "client", "127.0.0.1", str(h.port), str(count)],
                           capture_output=True, text=True, timeout=600)
        f = r.stdout.split()
        return {"first1000": float(f[1]), "last10pct": float(f[3]), "conn_per_s": float(f[5]),
                "failures": int(f[7])}
    finally:
        h.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npte", required=True)
    ap.add_argument("--connrate", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--conns", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--helpers", default="direct,npte,rootlesskit")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    helpers = args.helpers.split(",")
    results = {}
    for kind in helpers:
        runs = []
        for _ in range(args.runs):
            t = bench_tcp(kind, args.npte, args.seconds)
            c = bench_conn(kind, args.npte, args.connrate, args.conns)
            runs.append({**t, **c})
            print(kind, runs[-1], flush=True)
        med = {}
        for k in runs[0]:
            vals = sorted(r[k] for r in runs)
            med[k] = vals[len(vals) // 2]
        results[kind] = med
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    print()
    print("%-12s %10s %10s %12s %12s %10s" % ("helper", "TCP Gbps", "conn/s", "conn first1k",
                                                "conn last10%", "RSS MiB"))
    for kind, r in results.items():
        print("%-12s %10.2f %10.0f %12.0f %12.0f %10.1f" % (
            kind, r["gbps"], r["conn_per_s"], r["first1000"], r["last10pct"], r["rss_kib"] / 1024))
    if "npte" in results:
        print()
        for peer in results:
            if peer == "npte":
                continue
            p, n = results[peer], results["npte"]
            print("npte / %-12s TCP %.2fx   conn/s %.2fx" % (
                peer, n["gbps"] / p["gbps"], n["conn_per_s"] / p["conn_per_s"]))


if __name__ == "__main__":
    sys.exit(main())
