#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""npte benchmarks against the peers, side by side, over loopback only.

Normally started by bench/run.sh (as root), which installs the tools, builds npte and makes
the bench user. Every helper, server and client runs as that unprivileged user (setpriv keeps
the raised hard RLIMIT_NOFILE), wrapped in timeout(1), and every process of the user is killed
after each scenario.

Scenarios (each helper gets a fresh instance per scenario):
  tcp      iperf3 host->namespace and namespace->host (-R), 1 and 4 streams; helper CPU and RSS
  udp      iperf3 -u at a fixed offered load: receiver rate and loss
  rtt      sockperf ping-pong over TCP: average and p99 round trip
  conn     connrate: sequential connect / 1-byte request / 1-byte reply / close
  idle     connrate hold: N concurrent idle connections, helper RSS
  startup  hyperfine: `<helper> -p ... -- true` against `unshare -Urn true`
Helpers: direct (no forwarder), npte, rootlesskit (builtin port driver), pasta, and
rootlesskit-slirp (slirp4netns port driver, not in the default set).

Output (--out DIR): runs.tsv (every value of every run), results.json (runs, medians, meta),
table.txt, logs/ (helper stderr), and with --profile perf-*.txt, strace-*.txt.
"""
import argparse
import json
import os
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HELPERS_ALL = ["direct", "npte", "rootlesskit", "pasta", "rootlesskit-slirp"]
HELPERS_DEFAULT = ["direct", "npte", "rootlesskit", "pasta"]
SCENARIOS = ["tcp", "udp", "rtt", "conn", "idle", "startup"]
HELPER_EXES = ("npte", "rootlesskit", "slirp4netns", "passt", "pasta")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# metric key -> (label, unit/format, better: "hi" | "lo" | None)
METRICS = [
    ("tcp_fwd1_gbps", "TCP host->ns, 1 stream, Gbit/s", "%.2f", "hi"),
    ("tcp_fwd4_gbps", "TCP host->ns, 4 streams, Gbit/s", "%.2f", "hi"),
    ("tcp_rev1_gbps", "TCP ns->host, 1 stream, Gbit/s", "%.2f", "hi"),
    ("tcp_rev4_gbps", "TCP ns->host, 4 streams, Gbit/s", "%.2f", "hi"),
    ("tcp_fwd1_cpu_pct", "helper CPU %, TCP host->ns 1 stream", "%.0f", "lo"),
    ("tcp_rev1_cpu_pct", "helper CPU %, TCP ns->host 1 stream", "%.0f", "lo"),
    ("tcp_cpu_s_per_gb", "helper CPU s per GB, all TCP tests", "%.3f", "lo"),
    ("udp_recv_gbps", "UDP received (iperf3 -u), Gbit/s", "%.3f", "hi"),
    ("udp_loss_pct", "UDP loss (iperf3 -u), %", "%.1f", "lo"),
    ("udp1w_recv_gbps", "UDP one-way received, Gbit/s", "%.3f", "hi"),
    ("udp1w_loss_pct", "UDP one-way loss, %", "%.1f", "lo"),
    ("rtt_avg_us", "TCP RTT avg, us", "%.1f", "lo"),
    ("rtt_p99_us", "TCP RTT p99, us", "%.1f", "lo"),
    ("rtt_cpu_pct", "helper CPU %, RTT test", "%.0f", "lo"),
    ("conn_total", "conn/s, all cycles", "%.0f", "hi"),
    ("conn_first1000", "conn/s, first 1 000", "%.0f", "hi"),
    ("conn_tail", "conn/s, cycles 90-100 %", "%.0f", "hi"),
    ("conn_flat_pct", "conn/s tail vs first 1 000, %", "%+.1f", None),
    ("conn_p99_us", "conn cycle p99, us", "%.0f", "lo"),
    ("conn_failures", "conn failures", "%.0f", "lo"),
    ("conn_cpu_us", "helper CPU us per conn cycle", "%.1f", "lo"),
    ("peak_rss_mib", "helper peak RSS (VmHWM), MiB", "%.1f", "lo"),
    ("tcp_hwm_mib", "helper VmHWM in the TCP test, MiB", "%.1f", "lo"),
    ("idle_held", "idle connections held", "%.0f", "hi"),
    ("idle_rss_mib", "helper RSS with idle conns, MiB", "%.1f", "lo"),
    ("idle_hwm_mib", "helper VmHWM with idle conns, MiB", "%.1f", "lo"),
    ("idle_fds", "helper fds with idle conns", "%.0f", "lo"),
    ("idle_kib_per_conn", "helper RSS growth per idle conn, KiB", "%.2f", "lo"),
    ("idle_fds_per_conn", "helper fds per idle conn", "%.1f", "lo"),
    ("startup_ms", "start-up `-- true`, ms (direct: unshare -Urn)", "%.1f", "lo"),
    ("startup_failures", "start-up runs that failed (of --startup-runs)", "%.0f", "lo"),
]
METRIC_INFO = {m[0]: m for m in METRICS}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1, below the ephemeral range.

    Ports from the ephemeral range (32768-60999) can be taken again as the source port of
    any outgoing connection before the server binds them, so they are avoided.
    """
    import random
    lo, hi = 20000, 32000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph = int(f.read().split()[0])
        hi = min(hi, eph - 1)
        lo = min(lo, hi - 1000)
    except (OSError, ValueError):
        pass
    for _ in range(200):
        p = random.randint(lo, hi)
        t = socket.socket()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", p))
            u.bind(("127.0.0.1", p))
            return p
        except OSError:
            continue
        finally:
            t.close()
            u.close()
    raise RuntimeError("no free port")


# ---------------------------------------------------------------- processes

def proc_stat(pid):
    """(ppid, utime+stime in s) of pid, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            r = f.read().rsplit(")", 1)[1].split()
        return int(r[1]), (int(r[11]) + int(r[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_exe(pid):
    try:
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except OSError:
        return ""


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def children_map():
    kids = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st:
            kids.setdefault(st[0], []).append(pid)
    return kids


def is_helper_exe(name):
    return any(name == e or name.startswith(e + ".") for e in HELPER_EXES)


def helper_pids(root):
    """The helper's own processes under root (a timeout wrapper): not the payload."""
    kids = children_map()
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            if is_helper_exe(proc_exe(c)):
                out.append(c)
                todo.append(c)
    return sorted(out)


def uid_pids(uid):
    out = []
    for pid in all_pids():
        if pid == os.getpid():
            continue
        st = proc_status(pid).get("Uid", "")
        if st and int(st.split()[0]) == uid:
            out.append(pid)
    return out


# ---------------------------------------------------------------- context

class Ctx:
    def __init__(self, args):
        self.args = args
        self.npte = os.path.abspath(args.npte)
        self.connrate = os.path.abspath(args.connrate)
        self.out = args.out
        self.logdir = os.path.join(self.out, "logs")
        os.makedirs(self.logdir, exist_ok=True)
        self.prefix = []
        self.uid = os.getuid()
        if os.getuid() == 0:
            if not args.user:
                sys.exit("bench.py: as root, give --user (bench/run.sh does)")
            pw = pwd.getpwnam(args.user)
            self.uid = pw.pw_uid
            # The hard limit is raised here, as root (as a unit's LimitNOFILE= would);
            # setpriv keeps rlimits (runuser may reset them via PAM). Without CAP_SYS_RESOURCE
            # (a container) the hard limit stays as it is and the idle test is scaled to it.
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (1024, max(hard, args.nofile)))
            except (ValueError, OSError) as e:
                log("warning: cannot raise the hard RLIMIT_NOFILE from %d to %d (%s);"
                    " idle connections are capped to fit" % (hard, args.nofile, e))
                resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
            env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                   "HOME=" + pw.pw_dir, "USER=" + pw.pw_name, "LOGNAME=" + pw.pw_name,
                   "TMPDIR=/tmp", "LANG=C.UTF-8"]
            self.prefix = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                           "--init-groups", "--", "env", "-i"] + env
        self.nofile_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        self.tmp = tempfile.mkdtemp(prefix="npte-bench-")
        os.chmod(self.tmp, 0o700)
        if os.getuid() == 0:
            os.chown(self.tmp, self.uid, -1)
        self.seq = 0

    def wrap(self, cmd, limit):
        """cmd as the bench user, killed after limit seconds (SIGKILL 3 s later)."""
        return self.prefix + ["timeout", "-k", "3", "%d" % max(1, int(limit))] + cmd

    def run(self, cmd, limit, **kw):
        try:
            return subprocess.run(self.wrap(cmd, limit), capture_output=True, text=True,
                                  timeout=limit + 10, **kw)
        except subprocess.TimeoutExpired as e:
            return subprocess.CompletedProcess(cmd, 124, e.stdout or "", e.stderr or "")

    def sweep(self):
        """Kill every process of the bench user (all of them were started by this run)."""
        if self.uid == 0 or os.getuid() != 0:
            return []
        left = uid_pids(self.uid)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in left:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            end = time.monotonic() + 3
            while left and time.monotonic() < end:
                time.sleep(0.05)
                left = uid_pids(self.uid)
            if not left:
                break
        return left

    def cleanup(self):
        self.sweep()
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------- helpers

class Helper:
    """A helper forwarding host port -> namespace port, running payload(inner_port) inside."""

    def __init__(self, ctx, kind, protos, inner, payload, limit, tag):
        self.ctx, self.kind = ctx, kind
        self.port = free_port()
        ctx.seq += 1
        state = os.path.join(ctx.tmp, "s%d" % ctx.seq)
        if kind == "direct":
            self.inner = self.port
            cmd = payload(self.port)
        else:
            self.inner = inner
            cmd = helper_cmd(ctx, kind, protos, self.port, inner, state) + payload(inner)
        self.logpath = os.path.join(ctx.logdir, "%s-%s.log" % (tag, kind))
        self.logf = open(self.logpath, "ab")
        for attempt in range(3):
            self.logf.write(("$ %s\n" % " ".join(cmd)).encode())
            self.logf.flush()
            self.proc = subprocess.Popen(ctx.wrap(cmd, limit), stdout=self.logf,
                                         stderr=self.logf, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
            time.sleep(0.3)
            if self.proc.poll() is None or attempt == 2:
                break
            # it died at once, most likely its port was taken meanwhile: another port
            old = self.port
            self.port = free_port()
            if kind == "direct":
                self.inner = self.port
                cmd = payload(self.port)
            else:
                cmd = [c.replace(":%d:" % old, ":%d:" % self.port)
                       .replace("/%d:" % old, "/%d:" % self.port) for c in cmd]

    def pids(self):
        return [] if self.kind == "direct" else helper_pids(self.proc.pid)

    def main_pid(self):
        """The helper process started by the wrapper (npte's parent, pasta, rootlesskit)."""
        for p in self.pids():
            st = proc_stat(p)
            if st and st[0] == self.proc.pid:
                return p
        return None

    def cpu(self):
        return sum(proc_stat(p)[1] for p in self.pids() if proc_stat(p))

    def mem(self):
        """Summed VmHWM, VmRSS (KiB) and fd count over the helper's own processes."""
        hwm = rss = fds = 0
        for p in self.pids():
            st = proc_status(p)
            hwm += int(st.get("VmHWM", "0 kB").split()[0])
            rss += int(st.get("VmRSS", "0 kB").split()[0])
            try:
                fds += len(os.listdir("/proc/%d/fd" % p))
            except OSError:
                pass
        return {"hwm_kib": hwm, "rss_kib": rss, "fds": fds}

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        try:
            self.proc.send_signal(signal.SIGTERM)  # timeout(1) passes it on to the helper
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        left = self.ctx.sweep()
        if left:
            log("warning: processes left after %s: %s" % (self.kind, left))
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.logf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def helper_cmd(ctx, kind, protos, port, inner, state):
    if kind == "npte":
        cmd = [ctx.npte, "run", "--state-dir", state]
        for p in protos:
            cmd += ["-p", "127.0.0.1:%d:%d/%s" % (port, inner, p)]
        return cmd + ["--"]
    if kind in ("rootlesskit", "rootlesskit-slirp"):
        driver = "builtin" if kind == "rootlesskit" else "slirp4netns"
        cmd = ["rootlesskit", "--state-dir", state, "--net=slirp4netns",
               "--disable-host-loopback", "--port-driver=" + driver]
        for p in protos:
            cmd += ["-p", "127.0.0.1:%d:%d/%s" % (port, inner, p)]
        return cmd + ["--"]
    if kind == "pasta":
        # Host loopback -> namespace loopback is pasta's spliced path. No automatic
        # namespace -> host forwards (-T/-U none), as npte has none.
        cmd = ["pasta", "--config-net", "-q", "-T", "none", "-U", "none"]
        for flag, p in (("-t", "tcp"), ("-u", "udp")):
            cmd += [flag, "127.0.0.1/%d:%d" % (port, inner) if p in protos else "none"]
        return cmd + ["--"]
    raise ValueError(kind)


def have_helper(kind):
    need = {"npte": None, "direct": None, "rootlesskit": "rootlesskit",
            "rootlesskit-slirp": "rootlesskit", "pasta": "pasta"}[kind]
    return need is None or shutil.which(need) is not None


# ---------------------------------------------------------------- scenarios

def retry(ctx, h, cmd, limit, ok, deadline=15):
    """Run a client until ok(result) (the server may still be starting), for deadline s."""
    end = time.monotonic() + deadline
    while True:
        r = ctx.run(cmd, limit)
        if ok(r) or time.monotonic() > end or not h.alive():
            return r
        time.sleep(0.2)


def iperf_json(r):
    try:
        d = json.loads(r.stdout)
        return d if "error" not in d and "end" in d else None
    except ValueError:
        return None


def sc_tcp(ctx, kind, a):
    d = a.tcp_seconds
    tests = [("fwd1", []), ("fwd4", ["-P", "4"]), ("rev1", ["-R"]), ("rev4", ["-R", "-P", "4"])]
    limit = len(tests) * (d + 25) + 20
    payload = lambda p: ["timeout", "-k", "2", str(limit), "iperf3", "-s", "-p", str(p)]
    res = {}
    cpu_total = bytes_total = 0.0
    with Helper(ctx, kind, ["tcp"], 5201, payload, limit + 5, "tcp") as h:
        for name, extra in tests:
            cmd = ["iperf3", "-c", "127.0.0.1", "-p", str(h.port), "-t", str(d), "-J",
                   "--connect-timeout", "3000"] + extra
            c0, t0 = h.cpu(), time.monotonic()
            r = retry(ctx, h, cmd, d + 20, lambda r: iperf_json(r) is not None)
            c1, t1 = h.cpu(), time.monotonic()
            j = iperf_json(r)
            if j is None:
                log("  tcp %s %s failed: %s" % (kind, name, (r.stdout + r.stderr)[-300:]))
                continue
            rec = j["end"]["sum_received"]
            res["tcp_%s_gbps" % name] = rec["bits_per_second"] / 1e9
            if kind != "direct":
                res["tcp_%s_cpu_pct" % name] = 100.0 * (c1 - c0) / max(t1 - t0, 1e-3)
                cpu_total += c1 - c0
                bytes_total += rec["bytes"]
        if kind != "direct":
            m = h.mem()
            res["tcp_hwm_mib"] = m["hwm_kib"] / 1024
            if bytes_total:
                res["tcp_cpu_s_per_gb"] = cpu_total / (bytes_total / 1e9)
    return res


def sc_udp(ctx, kind, a):
    d = a.udp_seconds
    limit = d + 40
    payload = lambda p: ["timeout", "-k", "2", str(limit), "iperf3", "-s", "-p", str(p)]
    res = {}
    with Helper(ctx, kind, ["tcp", "udp"], 5201, payload, limit + 5, "udp") as h:
        cmd = ["iperf3", "-c", "127.0.0.1", "-p", str(h.port), "-u", "-b", a.udp_rate,
               "-l", str(a.udp_len), "-t", str(d), "-J", "--connect-timeout", "3000"]
        # short deadline: pasta 2023-03 never returns the reply iperf3 -u waits for
        r = retry(ctx, h, cmd, d + 8, lambda r: iperf_json(r) is not None, deadline=5)
        j = iperf_json(r)
        if j is None:
            log("  udp %s: iperf3 -u failed: %s" % (kind, (r.stdout + r.stderr)[-200:]))
        else:
            rec = j["end"]["sum_received"] if "sum_received" in j["end"] else j["end"]["sum"]
            res["udp_recv_gbps"] = rec["bits_per_second"] / 1e9
            res["udp_loss_pct"] = rec["lost_percent"]
        if kind != "direct":
            res["udp_hwm_mib"] = h.mem()["hwm_kib"] / 1024
    # The same offered load one way only (connrate udp-send -> udp-recv): nothing has to come
    # back through the forwarder, so it measures every helper.
    ctx.seq += 1
    result = os.path.join(ctx.tmp, "udp%d" % ctx.seq)
    payload = lambda p: ["timeout", "-k", "2", str(limit), ctx.connrate, "udp-recv", "127.0.0.1",
                         str(p), str(d + 25), result]
    with Helper(ctx, kind, ["udp"], 5202, payload, limit + 5, "udp1w") as h:
        cmd = [ctx.connrate, "udp-send", "127.0.0.1", str(h.port), "%.0f" % parse_rate(a.udp_rate),
               str(a.udp_len), str(d), result]
        # the helper ends with the receiver: sample its memory while the sender runs
        sender = subprocess.Popen(ctx.wrap(cmd, d + 20), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, start_new_session=True)
        mem = None
        while sender.poll() is None:
            m = h.mem() if kind != "direct" else None
            mem = m if m and m["hwm_kib"] else mem
            time.sleep(0.2)
        so, se = sender.communicate()
        r = subprocess.CompletedProcess(cmd, sender.returncode, so, se)
        end = time.monotonic() + 10
        while not os.path.exists(result) and time.monotonic() < end and h.alive():
            time.sleep(0.1)
        try:
            sent = dict(zip(r.stdout.split()[0::2], map(float, r.stdout.split()[1::2])))
            with open(result) as f:
                t = f.read().split()
            got = dict(zip(t[0::2], map(float, t[1::2])))
            res["udp1w_recv_gbps"] = got["bytes"] * 8 / max(got["seconds"], 1e-3) / 1e9
            res["udp1w_loss_pct"] = 100.0 * (1 - got["received"] / sent["sent"])
        except (OSError, ValueError, KeyError, ZeroDivisionError):
            log("  udp %s: one-way meter failed: %s" % (kind, (r.stdout + r.stderr)[-200:]))
        if mem:
            res["udp1w_hwm_mib"] = mem["hwm_kib"] / 1024
    return res


def parse_rate(text):
    """iperf3-style rate (1G, 500M, 100k, 1e9) in bits/s."""
    mult = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "g": 1e9, "G": 1e9}
    if text and text[-1] in mult:
        return float(text[:-1]) * mult[text[-1]]
    return float(text)


def parse_sockperf(text):
    avg = re.search(r"avg-rtt=([0-9.]+)", text)
    p99 = re.search(r"percentile 99\.000 =\s*([0-9.]+)", text)
    if not avg or not p99:
        return None
    return {"rtt_avg_us": float(avg.group(1)), "rtt_p99_us": float(p99.group(1))}


def sc_rtt(ctx, kind, a):
    d = a.rtt_seconds
    limit = d + 40
    payload = lambda p: ["timeout", "-k", "2", str(limit), "sockperf", "sr", "--tcp", "-i",
                         "127.0.0.1", "-p", str(p)]
    res = {}
    with Helper(ctx, kind, ["tcp"], 11111, payload, limit + 5, "rtt") as h:
        cmd = ["sockperf", "pp", "--tcp", "-i", "127.0.0.1", "-p", str(h.port), "-t", str(d),
               "--full-rtt"]
        c0, t0 = h.cpu(), time.monotonic()
        r = retry(ctx, h, cmd, d + 20, lambda r: parse_sockperf(r.stdout) is not None)
        c1, t1 = h.cpu(), time.monotonic()
        p = parse_sockperf(r.stdout)
        if p is None:
            log("  rtt %s failed: %s" % (kind, (r.stdout + r.stderr)[-300:]))
        else:
            res.update(p)
            if kind != "direct":
                res["rtt_cpu_pct"] = 100.0 * (c1 - c0) / max(t1 - t0, 1e-3)
        if kind != "direct":
            res["rtt_hwm_mib"] = h.mem()["hwm_kib"] / 1024
    return res


def parse_connrate(text):
    f = text.split()
    try:
        kv = {f[i]: float(f[i + 1]) for i in range(0, len(f) - 1, 2)}
    except ValueError:
        return None
    return kv if "total" in kv else None


def sc_conn(ctx, kind, a):
    limit = a.conn_max_seconds + 40
    payload = lambda p: ["timeout", "-k", "2", str(limit), ctx.connrate, "server", "127.0.0.1",
                         str(p), str(limit)]
    res = {}
    with Helper(ctx, kind, ["tcp"], 7777, payload, limit + 5, "conn") as h:
        warm = [ctx.connrate, "client", "127.0.0.1", str(h.port), "50", "10"]
        retry(ctx, h, warm, 20, lambda r: r.returncode == 0)
        cmd = [ctx.connrate, "client", "127.0.0.1", str(h.port), str(a.conns),
               str(a.conn_max_seconds)]
        c0 = h.cpu()
        r = ctx.run(cmd, a.conn_max_seconds + 20)
        c1 = h.cpu()
        kv = parse_connrate(r.stdout)
        if kv is None:
            log("  conn %s failed: %s" % (kind, (r.stdout + r.stderr)[-300:]))
        else:
            res.update({"conn_total": kv["total"], "conn_first1000": kv["first1000"],
                        "conn_tail": kv["tail"], "conn_failures": kv["failures"],
                        "conn_cycles": kv["cycles"], "conn_p50_us": kv["p50_us"],
                        "conn_p99_us": kv["p99_us"]})
            if kv["first1000"] > 0:
                res["conn_flat_pct"] = 100.0 * (kv["tail"] / kv["first1000"] - 1)
            if kind != "direct" and kv["cycles"] > 0:
                res["conn_cpu_us"] = 1e6 * (c1 - c0) / kv["cycles"]
        if kind != "direct":
            res["conn_hwm_mib"] = h.mem()["hwm_kib"] / 1024
    return res


def sc_idle(ctx, kind, a):
    limit = 120
    payload = lambda p: ["timeout", "-k", "2", str(limit), ctx.connrate, "hold-server",
                         "127.0.0.1", str(p), str(limit)]
    res = {}
    # a forwarder needs two fds per connection, under the same hard limit as everybody
    n = min(a.idle_conns, (ctx.nofile_hard - 200) // 2)
    with Helper(ctx, kind, ["tcp"], 7778, payload, limit + 5, "idle") as h:
        warm = [ctx.connrate, "client", "127.0.0.1", str(h.port), "1", "5"]
        retry(ctx, h, warm, 10, lambda r: r.returncode == 0)
        base = h.mem() if kind != "direct" else None
        p = subprocess.Popen(ctx.wrap([ctx.connrate, "hold", "127.0.0.1", str(h.port),
                                       str(n), str(limit - 20)], limit),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            line = p.stdout.readline().split()
            if len(line) >= 4 and line[0] == "held":
                time.sleep(0.5)
                res["idle_held"] = float(line[1])
                res["idle_tried"] = n
                if kind != "direct":
                    m = h.mem()
                    res.update({"idle_rss_mib": m["rss_kib"] / 1024,
                                "idle_hwm_mib": m["hwm_kib"] / 1024, "idle_fds": m["fds"]})
                    if res["idle_held"] > 0:
                        res["idle_kib_per_conn"] = ((m["rss_kib"] - base["rss_kib"])
                                                    / res["idle_held"])
                        res["idle_fds_per_conn"] = (m["fds"] - base["fds"]) / res["idle_held"]
            else:
                log("  idle %s failed: %s" % (kind, line))
        finally:
            p.stdin.close()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    return res


def startup_cmd(ctx, kind, port):
    if kind == "direct":
        return ["unshare", "-Urn", "true"]
    if kind == "npte":
        return [ctx.npte, "run", "-p", "127.0.0.1:%d:80/tcp" % port, "--", "true"]
    if kind in ("rootlesskit", "rootlesskit-slirp"):
        driver = "builtin" if kind == "rootlesskit" else "slirp4netns"
        return ["rootlesskit", "--net=slirp4netns", "--disable-host-loopback",
                "--port-driver=" + driver, "-p", "127.0.0.1:%d:80/tcp" % port, "--", "true"]
    if kind == "pasta":
        return ["pasta", "--config-net", "-q", "-T", "none", "-U", "none", "-u", "none", "-t",
                "127.0.0.1/%d:80" % port, "--", "true"]
    raise ValueError(kind)


def sc_startup(ctx, kind, a):
    port = free_port()
    cmd = startup_cmd(ctx, kind, port)
    ctx.seq += 1
    jpath = os.path.join(ctx.tmp, "hf%d.json" % ctx.seq)
    # -i: rootlesskit 1.1 sometimes fails `-- true` (its port driver's socket is gone when the
    # payload exits at once); such runs are counted and left out of the median.
    hf = ["hyperfine", "-N", "-i", "--style", "none", "--warmup", "2", "--runs",
          str(a.startup_runs), "--export-json", jpath, " ".join(cmd)]
    r = ctx.run(hf, 120)
    try:
        with open(jpath) as f:
            d = json.load(f)["results"][0]
        ok = [t for t, c in zip(d["times"], d.get("exit_codes", [])) if c == 0]
        out = {"startup_failures": len(d["times"]) - len(ok)}
        if ok:
            out["startup_ms"] = statistics.median(ok) * 1000
        return out
    except (OSError, ValueError, KeyError, IndexError):
        log("  startup %s failed: %s" % (kind, (r.stdout + r.stderr)[-300:]))
        return {}


SCENARIO_FN = {"tcp": sc_tcp, "udp": sc_udp, "rtt": sc_rtt, "conn": sc_conn, "idle": sc_idle,
               "startup": sc_startup}


# ---------------------------------------------------------------- report

def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(key, v):
    if v is None:
        return "-"
    return METRIC_INFO[key][2] % v


def table(med, helpers, npte="npte"):
    peers = [h for h in helpers if h != npte]
    head = ["metric"] + helpers + (["npte/" + p for p in peers] if npte in helpers else [])
    rows = []
    for key, label, _, _ in METRICS:
        vals = [med.get(h, {}).get(key) for h in helpers]
        if all(v is None for v in vals):
            continue
        row = [label] + [fmt(key, v) for v in vals]
        if npte in helpers:
            n = med.get(npte, {}).get(key)
            for p in peers:
                pv = med.get(p, {}).get(key)
                row.append("%.2fx" % (n / pv) if n is not None and pv and key != "conn_flat_pct"
                           else "-")
        rows.append(row)
    w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                               for i, c in enumerate(r)) + " |" for r in [head] + rows]
    lines.insert(1, "|" + "|".join("-" * (w[i] + 1) + (":" if i else "-")
                                   for i in range(len(head))) + "|")
    return "\n".join(lines)


def targets(med):
    """The issue-10 targets, judged on the medians: list of (target, value, ok)."""
    n, p, d = med.get("npte", {}), med.get("pasta", {}), med.get("direct", {})
    out = []

    def ratio(a, b):
        return a / b if a is not None and b else None

    def add(name, val, ok, shown):
        out.append((name, shown if val is not None else "n/a", ok if val is not None else None))

    for t in ("fwd1", "fwd4", "rev1", "rev4"):
        k = "tcp_%s_gbps" % t
        rp, rd = ratio(n.get(k), p.get(k)), ratio(n.get(k), d.get(k))
        add("TCP %s >= 1.15x pasta" % t, rp, rp is not None and rp >= 1.15,
            "%.2fx" % rp if rp else "")
        add("TCP %s >= 0.80x direct" % t, rd, rd is not None and rd >= 0.80,
            "%.2fx" % rd if rd else "")
    r = ratio(n.get("conn_total"), p.get("conn_total"))
    add("conn/s >= 1.5x pasta", r, r is not None and r >= 1.5, "%.2fx" % r if r else "")
    f = n.get("conn_flat_pct")
    add("conn/s flat within 5 % (cycles 90-100 % vs first 1 000)", f,
        f is not None and abs(f) <= 5, "%+.1f %%" % f if f is not None else "")
    r = ratio(n.get("rtt_avg_us"), p.get("rtt_avg_us"))
    add("RTT avg <= 0.75x pasta", r, r is not None and r <= 0.75, "%.2fx" % r if r else "")
    r = ratio(n.get("udp1w_recv_gbps"), p.get("udp1w_recv_gbps"))
    add("UDP received >= 1.5x pasta (one-way)", r, r is not None and r >= 1.5,
        "%.2fx" % r if r else "")
    nl, pl = n.get("udp1w_loss_pct"), p.get("udp1w_loss_pct")
    add("UDP loss lower than pasta (one-way)", nl if pl is not None else None,
        nl is not None and pl is not None and nl < pl,
        "%.1f %% vs %.1f %%" % (nl, pl) if nl is not None and pl is not None else "")
    v = n.get("peak_rss_mib")
    add("helper peak RSS <= 4 MiB", v, v is not None and v <= 4, "%.1f MiB" % v if v else "")
    v = n.get("idle_hwm_mib")
    add("helper RSS <= 16 MiB with idle conns", v, v is not None and v <= 16,
        "%.1f MiB" % v if v else "")
    r = ratio(n.get("startup_ms"), d.get("startup_ms"))
    add("start-up <= 1.5x unshare -Urn true", r, r is not None and r <= 1.5,
        "%.2fx" % r if r else "")
    return out


def tool_versions():
    cmds = {"iperf3": ["iperf3", "--version"], "sockperf": ["sockperf", "--version"],
            "hyperfine": ["hyperfine", "--version"], "rootlesskit": ["rootlesskit", "--version"],
            "slirp4netns": ["slirp4netns", "--version"]}
    out = {}
    for k, c in cmds.items():
        try:
            out[k] = subprocess.run(c, capture_output=True, text=True,
                                    timeout=5).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            out[k] = None
    try:
        out["passt"] = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "passt"],
                                      capture_output=True, text=True, timeout=5).stdout
    except OSError:
        out["passt"] = None
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--npte", required=True)
    ap.add_argument("--connrate", required=True)
    ap.add_argument("--user", help="run everything as this user (required as root)")
    ap.add_argument("--out", default="bench/out/latest")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 run, short durations")
    ap.add_argument("--helpers", default=",".join(HELPERS_DEFAULT),
                    help="comma list of " + ",".join(HELPERS_ALL))
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--tcp-seconds", type=int, default=5)
    ap.add_argument("--udp-seconds", type=int, default=5)
    ap.add_argument("--udp-rate", default="1G", help="iperf3 -b offered load")
    ap.add_argument("--udp-len", type=int, default=1400, help="UDP datagram payload bytes")
    ap.add_argument("--rtt-seconds", type=int, default=5)
    ap.add_argument("--conns", type=int, default=100000)
    ap.add_argument("--conn-max-seconds", type=int, default=90)
    ap.add_argument("--idle-conns", type=int, default=10000)
    ap.add_argument("--nofile", type=int, default=65536, help="hard RLIMIT_NOFILE for the run")
    ap.add_argument("--startup-runs", type=int, default=20)
    ap.add_argument("--profile", action="store_true",
                    help="also perf/strace the helpers during iperf3 (needs root)")
    ap.add_argument("--profile-seconds", type=int, default=8)
    ap.add_argument("--profile-conns", type=int, default=5000)
    a = ap.parse_args()
    if a.quick:
        a.runs = 1
        a.tcp_seconds = a.udp_seconds = a.rtt_seconds = 1
        a.conns, a.conn_max_seconds = 10000, 30
        a.idle_conns = 2000
        a.startup_runs = 5
        a.profile_seconds = 5
    a.helpers = [h for h in a.helpers.split(",") if h]
    for h in a.helpers:
        if h not in HELPERS_ALL:
            sys.exit("unknown helper %s" % h)
    missing = [h for h in a.helpers if not have_helper(h)]
    if missing:
        log("skipping helpers that are not installed: %s" % ",".join(missing))
        a.helpers = [h for h in a.helpers if h not in missing]
    scen = [s for s in a.scenarios.split(",") if s]
    ctx = Ctx(a)
    t_start = time.time()
    runs = []  # dicts: run, helper, scenario, metrics, loadavg
    try:
        for run in range(a.runs):
            for s in scen:
                # rotate the helper order each run so drift in machine load hits all alike
                order = a.helpers[run % len(a.helpers):] + a.helpers[:run % len(a.helpers)]
                for kind in order:
                    load = float(open("/proc/loadavg").read().split()[0])
                    t0 = time.monotonic()
                    try:
                        m = SCENARIO_FN[s](ctx, kind, a)
                    except Exception as e:  # keep going: one failure must not lose the run
                        log("  %s %s: %r" % (s, kind, e))
                        m = {}
                    runs.append({"run": run + 1, "helper": kind, "scenario": s, "load1": load,
                                 "seconds": round(time.monotonic() - t0, 1), "metrics": m})
                    log("run %d %-8s %-18s load %.2f %s" % (
                        run + 1, s, kind, load,
                        " ".join("%s=%.4g" % (k, v) for k, v in sorted(m.items()))))
        if a.profile:
            import bench_profile
            bench_profile.profile(ctx, a)
    finally:
        left = ctx.sweep()
        ctx.cleanup()
    # medians per helper and metric
    med = {}
    for kind in a.helpers:
        vals = {}
        for r in runs:
            if r["helper"] == kind:
                for k, v in r["metrics"].items():
                    vals.setdefault(k, {}).setdefault(r["run"], v)
        med[kind] = {k: median(list(v.values())) for k, v in vals.items()}
        hwms = [med[kind].get(k) for k in ("tcp_hwm_mib", "udp_hwm_mib", "udp1w_hwm_mib",
                                           "rtt_hwm_mib", "conn_hwm_mib")]
        if any(v is not None for v in hwms):
            med[kind]["peak_rss_mib"] = max(v for v in hwms if v is not None)
    tab = table(med, a.helpers)
    tg = targets(med) if "npte" in a.helpers else []
    loads = [r["load1"] for r in runs]
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "kernel": platform.release(),
            "cpus": os.cpu_count(), "runs": a.runs, "quick": a.quick,
            "wall_seconds": round(time.time() - t_start), "args": vars(a),
            "tools": tool_versions(), "load1_min": min(loads) if loads else None,
            "load1_max": max(loads) if loads else None, "leftover_pids": left,
            "nofile_hard": ctx.nofile_hard}
    try:
        meta["npte_commit"] = subprocess.run(
            ["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe", "--always",
             "--dirty"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        pass
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"meta": meta, "medians": med, "runs": runs,
                   "targets": [{"target": t, "value": v, "ok": ok} for t, v, ok in tg]},
                  f, indent=1)
    with open(os.path.join(a.out, "runs.tsv"), "w") as f:
        f.write("run\thelper\tscenario\tload1\tmetric\tvalue\n")
        for r in runs:
            for k, v in sorted(r["metrics"].items()):
                f.write("%d\t%s\t%s\t%.2f\t%s\t%.6g\n" % (r["run"], r["helper"], r["scenario"],
                                                           r["load1"], k, v))
    text = ["npte benchmark: medians of %d run(s)%s, %s, %d CPUs, kernel %s, load1 %.1f-%.1f, "
            "%d s" % (a.runs, " (quick)" if a.quick else "", meta["date"], meta["cpus"],
                      meta["kernel"], meta["load1_min"] or 0, meta["load1_max"] or 0,
                      meta["wall_seconds"]), "", tab]
    if tg:
        text += ["", "targets (issue 10):"]
        for t, v, ok in tg:
            text.append("  [%s] %-58s %s" % ({True: "pass", False: "FAIL", None: " n/a"}[ok],
                                             t, v))
    text.append("")
    text.append("leftover processes: %s" % (left or "none"))
    with open(os.path.join(a.out, "table.txt"), "w") as f:
        f.write("\n".join(text) + "\n")
    print("\n".join(text))
    print("\nraw results: %s/{results.json,runs.tsv,table.txt,logs/}" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
