#!/usr/bin/env python3
"""rootlesskit with the real slirp4netns vs rootlesskit with npte as its slirp4netns.

Same rootlesskit (Debian's), same flags, only --slirp4netns-binary differs:
  ns2host   namespace -> host TCP throughput at MTU 65520: iperf3 client inside,
            host iperf3 server on 127.0.0.1 reached through 10.0.2.2
  hostfwd   host -> namespace TCP throughput through the slirp4netns port driver
            (add_hostfwd on the API socket): host iperf3 client to 127.0.0.1:PORT
  connrate  sequential connect / 1-byte request / 1-byte reply / close through the
            same forward (bench/connrate)
Every process is bounded in time; traffic stays on 127.0.0.1 and inside the namespace.
rootlesskit refuses to run as root without subuid ranges: run this as an ordinary user, e.g.
  runuser -u npte-ci -- /usr/bin/python3 bench/bench_s4n.py --npte BUILD/npte \\
      --connrate BUILD/bench/connrate
(binaries are copied to a private temporary directory first).
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


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, proc, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


class RootlessKit:
    """rootlesskit --net=slirp4netns with the given slirp4netns binary, in its own session."""

    def __init__(self, tmp, binary, extra, payload, capture=False):
        self.state = tempfile.mkdtemp(prefix="rk-", dir=tmp)
        args = ["rootlesskit", "--state-dir", os.path.join(self.state, "s"), "--net=slirp4netns",
                "--mtu=65520", "--slirp4netns-binary=" + binary] + extra + ["--"] + payload
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.communicate(timeout=10)


def bench_ns2host(tmp, binary, seconds):
    port = free_port()
    server = subprocess.Popen(["timeout", str(seconds + 60), "iperf3", "-s", "-1", "-B",
                               "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        rk = RootlessKit(tmp, binary, ["--port-driver=none"],
                         ["timeout", str(seconds + 30), "iperf3", "-c", "10.0.2.2", "-p",
                          str(port), "-t", str(seconds), "-J"], capture=True)
        out, err = rk.proc.communicate(timeout=seconds + 60)
        if rk.proc.returncode != 0:
            raise RuntimeError("ns2host failed: %s %s" % (out[-500:], err[-500:]))
        return json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e9
    finally:
        server.kill()
        server.wait()


def forward(tmp, binary, inner_port, payload):
    port = free_port()
    rk = RootlessKit(tmp, binary, ["--port-driver=slirp4netns", "--disable-host-loopback",
                                   "-p", "127.0.0.1:%d:%d/tcp" % (port, inner_port)], payload)
    if not wait_port(port, rk.proc):
        rk.stop()
        raise RuntimeError("port not published: %s" % rk.proc.stderr.read()[-500:])
    return rk, port


def bench_hostfwd(tmp, binary, seconds):
    rk, port = forward(tmp, binary, 5201, ["timeout", str(seconds + 60), "iperf3", "-s", "-p",
                                           "5201"])
    try:
        for _ in range(20):
            r = subprocess.run(["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds),
                                "-J"], capture_output=True, text=True, timeout=seconds + 30)
            try:
                return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9
            except (ValueError, KeyError):
                time.sleep(0.5)  # the server in the namespace may not listen yet
        raise RuntimeError("hostfwd iperf3 failed: %s" % r.stdout[-500:])
    finally:
        rk.stop()


def bench_connrate(tmp, binary, connrate, count):
    rk, port = forward(tmp, binary, 7777, [connrate, "server", "0.0.0.0", "7777", "300"])
    try:
        for _ in range(50):  # warm up: the payload server may not listen yet
            r = subprocess.run([connrate, "client", "127.0.0.1", str(port), "50"],
                               capture_output=True, text=True, timeout=60)
            if r.returncode == 0:
                break
            time.sleep(0.2)
        r = subprocess.run([connrate, "client", "127.0.0.1", str(port), str(count)],
                           capture_output=True, text=True, timeout=600)
        f = r.stdout.split()
        vals = dict(zip(f[0::2], f[1::2]))
        return float(vals["total"]), int(vals.get("failures", "0"))
    finally:
        rk.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--npte", required=True, help="the npte binary")
    ap.add_argument("--connrate", required=True, help="bench/connrate from the build")
    ap.add_argument("--slirp4netns", default=shutil.which("slirp4netns") or "slirp4netns")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--conns", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--out", default=None, help="write the raw results as JSON here")
    args = ap.parse_args()
    if os.getuid() == 0:
        sys.exit("run as an unprivileged user with subuid ranges (rootlesskit refuses root), e.g. "
                 "runuser -u npte-ci -- /usr/bin/python3 bench/bench_s4n.py ...")
    tmp = tempfile.mkdtemp(prefix="npte-bench-s4n-")
    try:
        npte = os.path.realpath(args.npte)
        shutil.copy(npte, os.path.join(tmp, "npte"))
        # The launcher loads its module from next to itself (src/npte-launch.c).
        shutil.copy(os.path.join(os.path.dirname(npte), "npte-cli.so"), tmp)
        os.symlink("npte", os.path.join(tmp, "npte-slirp4netns"))
        connrate = os.path.join(tmp, "connrate")
        shutil.copy(args.connrate, connrate)
        helpers = {"slirp4netns": args.slirp4netns,
                   "npte-slirp4netns": os.path.join(tmp, "npte-slirp4netns")}
        runs = {name: [] for name in helpers}
        for _ in range(args.runs):  # interleaved, so load changes hit both alike
            for name, binary in helpers.items():
                cps, failures = bench_connrate(tmp, binary, connrate, args.conns)
                runs[name].append({"ns2host_gbps": bench_ns2host(tmp, binary, args.seconds),
                                   "hostfwd_gbps": bench_hostfwd(tmp, binary, args.seconds),
                                   "conn_per_s": cps, "conn_failures": failures})
                print(name, runs[name][-1], flush=True)
        results = {name: {k: sorted(r[k] for r in rs)[len(rs) // 2] for k in rs[0]}
                   for name, rs in runs.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
    s, n = results["slirp4netns"], results["npte-slirp4netns"]
    print()
    print("rootlesskit --net=slirp4netns --mtu=65520, %d s iperf3, %d connections, "
          "median of %d runs" % (args.seconds, args.conns, args.runs))
    print("%-34s %12s %17s %7s" % ("", "slirp4netns", "npte-slirp4netns", "ratio"))
    for key, label in (("ns2host_gbps", "namespace->host TCP (Gbit/s)"),
                       ("hostfwd_gbps", "hostfwd host->namespace (Gbit/s)"),
                       ("conn_per_s", "hostfwd connect rate (conn/s)")):
        print("%-34s %12.2f %17.2f %6.2fx" % (label, s[key], n[key], n[key] / s[key]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
