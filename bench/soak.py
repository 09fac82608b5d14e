#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Soak test of one npte instance: many sequential TCP connections and a long UDP stream
through one forward (127.0.0.1:H -> namespace port N, tcp and udp), with npte's fd count and
memory sampled from start to end.

Normally started by bench/soak.sh (as root), which builds npte and drops to the bench user.
Phases, in order, against one instance (builtin port driver):
  warm-up  --warmup sequential connections (lazy allocations happen here), then the first sample
  udp      --udp-bytes of --udp-len datagrams at --udp-rate (connrate udp-send -> udp-recv)
  tcp      --conns sequential connect / 1-byte request / 1-byte reply / close (connrate client)
  settle   --settle seconds idle (the UDP flow times out), then the last sample
Every --interval seconds a sample records VmRSS, VmHWM and the fd count summed over npte's
processes. At the end the forward's counters come from `npte-port --json ls`.

The run fails (exit 1) if a connection failed, a counter shows an error, npte counted other
connections or bytes than the clients made, the UDP flow was lost (remade), more than
--max-udp-loss-pct of the datagrams were lost, a connection is still active, the fd count grew from the first sample to the last by more than --fd-slack, or RSS
grew by more than --rss-slack-kib. Only processes this script started are stopped, by their pid.
Output (--out DIR): soak.json (samples, counters, summary) and soak.txt (the summary).
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (bench.py next to this file: process and /proc helpers)

INNER = 7777


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Soak:
    """One npte instance with the soak servers inside, and its samples."""

    def __init__(self, a, ctx):
        self.a, self.ctx = a, ctx
        self.samples = []
        self.lock = threading.Lock()
        self.phase = "start"
        self.port = bench.free_port()
        self.state = os.path.join(ctx.tmp, "state")
        self.udpfile = os.path.join(ctx.tmp, "udp-result")
        self.limit = a.max_seconds
        servers = ("%s udp-recv 127.0.0.1 %d %d %s %d & exec %s server 127.0.0.1 %d %d"
                   % (ctx.connrate, INNER, self.limit, self.udpfile, a.recv_buf, ctx.connrate,
                      INNER, self.limit))
        cmd = bench.helper_cmd(ctx, "npte", ["tcp", "udp"], self.port, INNER, self.state)
        cmd += ["sh", "-c", servers]
        self.logf = open(os.path.join(ctx.out, "npte.log"), "ab")
        self.logf.write(("$ %s\n" % " ".join(cmd)).encode())
        self.logf.flush()
        self.proc = subprocess.Popen(ctx.wrap(cmd, self.limit + 30), stdout=self.logf,
                                     stderr=self.logf, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        self.stop_sampling = threading.Event()
        self.sampler = threading.Thread(target=self._sample_loop, daemon=True)

    def pids(self):
        return bench.helper_pids(self.proc.pid)

    def sample(self, label=None):
        """Summed VmRSS, VmHWM (KiB) and fds of npte's processes, now."""
        hwm = rss = fds = 0
        pids = self.pids()
        for p in pids:
            st = bench.proc_status(p)
            hwm += int(st.get("VmHWM", "0 kB").split()[0])
            rss += int(st.get("VmRSS", "0 kB").split()[0])
            try:
                fds += len(os.listdir("/proc/%d/fd" % p))
            except OSError:
                pass
        s = {"t": round(time.monotonic() - self.t0, 1), "phase": label or self.phase,
             "pids": len(pids), "rss_kib": rss, "hwm_kib": hwm, "fds": fds}
        with self.lock:
            self.samples.append(s)
        return s

    def _sample_loop(self):
        while not self.stop_sampling.wait(self.a.interval):
            self.sample()

    def start(self):
        self.t0 = time.monotonic()
        end = time.monotonic() + 20
        while time.monotonic() < end and self.proc.poll() is None:
            if len(self.pids()) >= 2 and os.path.exists(os.path.join(self.state, "api.sock")):
                break
            time.sleep(0.1)
        if self.proc.poll() is not None:
            raise RuntimeError("npte exited at once (status %s); see %s/npte.log"
                               % (self.proc.returncode, self.ctx.out))
        self.sample("initial")
        self.sampler.start()

    def ports(self):
        """The forward's entries from `npte-port --json ls`, by protocol."""
        r = self.ctx.run([self.a.npte_port, "--state-dir", self.state, "--json", "ls"], 30)
        if r.returncode != 0:
            raise RuntimeError("npte-port ls failed: %s" % (r.stdout + r.stderr)[-300:])
        ports = {e["spec"]["proto"]: e for e in map(json.loads, r.stdout.splitlines())}
        if sorted(ports) != ["tcp", "udp"]:
            raise RuntimeError("npte-port ls listed %s, not the tcp and udp forward"
                               % sorted(ports))
        return ports

    def stop(self):
        self.stop_sampling.set()
        if self.sampler.is_alive():
            self.sampler.join(self.a.interval + 5)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own session: timeout, npte, servers
            self.proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self.logf.close()


def connrate_client(ctx, port, count, max_seconds):
    r = ctx.run([ctx.connrate, "client", "127.0.0.1", str(port), str(count), str(max_seconds)],
                max_seconds + 20)
    kv = bench.parse_connrate(r.stdout)
    if kv is None:
        raise RuntimeError("connrate client failed: %s" % (r.stdout + r.stderr)[-300:])
    return kv


def udp_phase(a, ctx, s):
    """Send --udp-bytes one way; the sender's and the receiver's counts."""
    seconds = a.udp_bytes * 8.0 / bench.parse_rate(a.udp_rate)
    r = ctx.run([ctx.connrate, "udp-send", "127.0.0.1", str(s.port), "%.0f"
                 % bench.parse_rate(a.udp_rate), str(a.udp_len), "%.3f" % seconds, s.udpfile],
                seconds + 40)
    f = r.stdout.split()
    sent = dict(zip(f[0::2], map(float, f[1::2]))) if len(f) >= 6 else None
    if r.returncode != 0 or sent is None:
        raise RuntimeError("connrate udp-send failed (status %d): %s"
                           % (r.returncode, (r.stdout + r.stderr)[-300:]))
    end = time.monotonic() + 15
    while not os.path.exists(s.udpfile) and time.monotonic() < end:
        time.sleep(0.1)
    with open(s.udpfile) as fh:
        t = fh.read().split()
    got = dict(zip(t[0::2], map(float, t[1::2])))
    return sent, got


def judge(a, res):
    """The failed checks, as text."""
    bad = []
    first, last = res["first"], res["last"]
    tcp, udp = res["counters"]["tcp"]["stats"], res["counters"]["udp"]["stats"]
    cycles = res["tcp"]["cycles"] + res["warmup"]["cycles"]
    if res["tcp"]["failures"] or res["warmup"]["failures"]:
        bad.append("%d connections failed" % (res["tcp"]["failures"] + res["warmup"]["failures"]))
    if res["tcp"]["cycles"] != a.conns:
        bad.append("only %d of %d connections were made in time" % (res["tcp"]["cycles"], a.conns))
    for proto, st in (("tcp", tcp), ("udp", udp)):
        if st.get("errors", 0):
            bad.append("%s forward counted %d errors" % (proto, st["errors"]))
    if tcp.get("connsAccepted") != cycles:
        bad.append("npte accepted %s connections, the client made %d"
                   % (tcp.get("connsAccepted"), cycles))
    if tcp.get("bytesIn") != cycles or tcp.get("bytesOut") != cycles:
        bad.append("tcp bytes in/out %s/%s, expected %d each"
                   % (tcp.get("bytesIn"), tcp.get("bytesOut"), cycles))
    if tcp.get("connsActive"):
        bad.append("%d tcp connections still active at the end" % tcp["connsActive"])
    loss = 100.0 * (1 - res["udp"]["received"] / res["udp"]["sent"]) if res["udp"]["sent"] else 0
    if loss > a.max_udp_loss_pct:
        bad.append("udp: %d datagrams sent, %d received (loss %.3f %%, at most %.3f %% passes)"
                   % (res["udp"]["sent"], res["udp"]["received"], loss, a.max_udp_loss_pct))
    if udp.get("connsAccepted") != 1:
        bad.append("udp: one sender socket made %s flows (the flow was lost and remade)"
                   % udp.get("connsAccepted"))
    if last["fds"] > first["fds"] + a.fd_slack:
        bad.append("fd count %d -> %d (slack %d)" % (first["fds"], last["fds"], a.fd_slack))
    if last["rss_kib"] - first["rss_kib"] > a.rss_slack_kib:
        bad.append("RSS grew by %d KiB (slack %d)"
                   % (last["rss_kib"] - first["rss_kib"], a.rss_slack_kib))
    return bad


def summary(a, res):
    f, l, t, u = res["first"], res["last"], res["tcp"], res["udp"]
    tcp, udp = res["counters"]["tcp"]["stats"], res["counters"]["udp"]["stats"]
    lines = [
        "npte soak%s: %d sequential TCP connections and %.0f MB of UDP through one forward, %s"
        % (" (quick)" if a.quick else "", a.conns, u["bytes_sent"] / 1e6, res["date"]),
        "  tcp: %d cycles in %.0f s, conn/s all %.0f, first 10 %% %.0f, last 10 %% %.0f "
        "(%+.1f %%), p50 %d us, p99 %d us, failures %d"
        % (t["cycles"], res["tcp_seconds"], t["total"], t["head"], t["tail"],
           100.0 * (t["tail"] / t["head"] - 1) if t["head"] else 0.0, t["p50_us"], t["p99_us"],
           t["failures"]),
        "  udp: sent %d datagrams (%d bytes) at %s bit/s, npte counted %d bytes in, received %d "
        "(%d bytes), loss %.3f %%"
        % (u["sent"], u["bytes_sent"], a.udp_rate, udp["bytesIn"], u["received"],
           u["bytes_received"], 100.0 * (1 - u["received"] / u["sent"]) if u["sent"] else 0.0),
        "  npte counters: tcp conns %d active %d in %d out %d errors %d; "
        "udp flows %d active %d in %d out %d errors %d"
        % (tcp["connsAccepted"], tcp["connsActive"], tcp["bytesIn"], tcp["bytesOut"],
           tcp["errors"], udp["connsAccepted"], udp["connsActive"], udp["bytesIn"],
           udp["bytesOut"], udp["errors"]),
        "  npte processes: fds %d -> %d, VmRSS %d -> %d KiB (%+d), VmHWM %d -> %d KiB (%+d); "
        "%d samples, max RSS %d KiB, max fds %d"
        % (f["fds"], l["fds"], f["rss_kib"], l["rss_kib"], l["rss_kib"] - f["rss_kib"],
           f["hwm_kib"], l["hwm_kib"], l["hwm_kib"] - f["hwm_kib"], len(res["samples"]),
           max(s["rss_kib"] for s in res["samples"]), max(s["fds"] for s in res["samples"])),
    ]
    lines.append("  result: " + ("PASS" if not res["failed"] else "FAIL: " + "; ".join(res["failed"])))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--npte", required=True)
    ap.add_argument("--npte-port", required=True)
    ap.add_argument("--connrate", required=True)
    ap.add_argument("--user", help="run npte and the clients as this user (required as root)")
    ap.add_argument("--out", default="bench/out/soak")
    ap.add_argument("--quick", action="store_true", help="50 000 connections and 100 MB of UDP")
    ap.add_argument("--conns", type=int, default=1000000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--udp-bytes", type=float, default=1e9)
    ap.add_argument("--udp-rate", default="50M", help="paced UDP load, bit/s")
    ap.add_argument("--udp-len", type=int, default=1400)
    ap.add_argument("--recv-buf", type=int, default=4 << 20,
                    help="SO_RCVBUF of the UDP receiver in the namespace (npte uses 4 MiB)")
    ap.add_argument("--max-udp-loss-pct", type=float, default=1.0,
                    help="datagram loss that still passes: with no CPU to spare, socket buffers "
                    "overflow before npte or the receiver reads them")
    ap.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    ap.add_argument("--settle", type=float, default=65.0,
                    help="idle seconds before the last sample (UDP flows expire after 60 s)")
    ap.add_argument("--rss-slack-kib", type=int, default=1024,
                    help="RSS growth from the first sample to the last that still passes")
    ap.add_argument("--fd-slack", type=int, default=64,
                    help="fd growth from the first sample to the last that still passes: the "
                    "namespace socket pool refills in batches of 64")
    ap.add_argument("--max-seconds", type=int, default=3600, help="bound on the whole run")
    ap.add_argument("--nofile", type=int, default=65536, help="hard RLIMIT_NOFILE for the run")
    a = ap.parse_args()
    if a.quick:
        a.conns, a.udp_bytes = 50000, 1e8
    for n in ("conns", "warmup", "udp_len"):
        if getattr(a, n) < 1:
            sys.exit("soak.py: --%s must be at least 1" % n.replace("_", "-"))
    if a.udp_bytes <= 0 or a.interval <= 0 or a.settle < 0:
        sys.exit("soak.py: --udp-bytes and --interval must be positive, --settle not negative")
    a.npte_port = os.path.abspath(a.npte_port)
    os.makedirs(a.out, exist_ok=True)
    ctx = bench.Ctx(a)
    # A scratch dir of our own name: bench.py's runs remove theirs, not this one.
    os.rmdir(ctx.tmp)
    ctx.tmp = tempfile.mkdtemp(prefix="npte-soak-")
    os.chmod(ctx.tmp, 0o700)
    if os.getuid() == 0:
        os.chown(ctx.tmp, ctx.uid, -1)
    res = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "args": vars(a)}
    s = Soak(a, ctx)
    error = None
    try:
        s.start()
        s.phase = "warmup"
        res["warmup"] = connrate_client(ctx, s.port, a.warmup, 60)
        res["first"] = s.sample("first")
        log("first sample: %s" % res["first"])
        s.phase = "udp"
        sent, got = udp_phase(a, ctx, s)
        res["udp"] = {"sent": int(sent["sent"]), "bytes_sent": int(sent["bytes"]),
                      "received": int(got["received"]), "bytes_received": int(got["bytes"]),
                      "send_seconds": sent["seconds"]}
        log("udp: %s" % res["udp"])
        s.phase = "tcp"
        t0 = time.monotonic()
        res["tcp"] = connrate_client(ctx, s.port, a.conns, a.max_seconds)
        res["tcp_seconds"] = round(time.monotonic() - t0, 1)
        log("tcp: %s" % res["tcp"])
        s.phase = "settle"
        time.sleep(a.settle)
        if not s.pids():
            raise RuntimeError("npte is gone (status %s)" % s.proc.poll())
        res["counters"] = s.ports()
        res["last"] = s.sample("last")
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        error = "%s (in phase %s)" % (e, s.phase)
        s.sample("error")
    finally:
        s.stop()
        subprocess.run(["rm", "-rf", ctx.tmp], check=False)
    res["samples"] = s.samples
    if error is None:
        res["failed"] = judge(a, res)
        text = summary(a, res)
    else:
        res["failed"] = [error]
        text = "npte soak: FAIL: %s" % error
    with open(os.path.join(a.out, "soak.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(a.out, "soak.txt"), "w") as f:
        f.write(text + "\n\nsamples (t s, phase, npte pids, VmRSS KiB, VmHWM KiB, fds):\n")
        for x in s.samples:
            f.write("  %7.1f %-8s %d %7d %7d %5d\n" % (x["t"], x["phase"], x["pids"], x["rss_kib"],
                                                     x["hwm_kib"], x["fds"]))
    print(text)
    print("details: %s/{soak.json,soak.txt,npte.log}" % a.out)
    return 1 if res["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
