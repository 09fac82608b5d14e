#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""npte scale benchmark (issue 11), side by side with the peers, over loopback only.

Normally started by `bench/run.sh --scale` (as root). Like bench.py, it raises the hard
RLIMIT_NOFILE where it can and runs every helper, server and client as the bench user through
setpriv, each wrapped in timeout(1); every process of the user is killed after each scenario.

Scenarios (each helper gets fresh instances):
  range-tcp     -p 127.0.0.1:LO-HI:LO-HI/tcp (10 000 ports) -- scaleload range-server: time to
                ready, helper peak RSS and fds, a random sample of forwards that must answer,
                and the wall time of `<helper> -p RANGE -- true`
  range-tcpudp  the same with TCP and UDP LO..LO+4 999 (10 000 forwards)
  api-range     one POST of a 10 000-port range (npte's "portCount"), the sample probed, GET,
                DELETE; then 10 000 single-port POSTs, GET of the 10 000 entries, 10 000 DELETEs
  active        N concurrent TCP connections through one forward, each echoing LEN bytes every
                INTERVAL ms: connections lost, round trip avg/p50/p99, helper RSS and fds
  apirate       1 000 add+remove pairs/s through api.sock for --api-seconds (a new connection
                per request, then keep-alive), while iperf3 runs through another forward of the
                same helper: pairs/s achieved, request p99, and iperf3 alone against loaded;
                also the most pairs/s the API takes back to back
Helpers: direct (the server on the host: no forwarder), npte, rootlesskit (builtin driver; it
has no port ranges, so it gets one -p per port), pasta (its spliced path; it has no API).

Output (--out DIR): table.txt, results.json, runs.tsv, logs/.
"""
import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as B  # noqa: E402  (the shared context, helper processes and memory readings)

HELPERS_DEFAULT = ["direct", "npte", "rootlesskit", "pasta"]
SCENARIOS = ["range-tcp", "range-tcpudp", "api-range", "active", "apirate"]
log = B.log

# key, label, format
METRICS = [
    ("rt_ready_ms", "range TCP {n}: ready (last port answers), ms", "%.0f"),
    ("rt_true_ms", "range TCP {n}: `-p RANGE -- true` wall, ms", "%.0f"),
    ("rt_probe_ok", "range TCP {n}: sampled forwards answering", "%.0f"),
    ("rt_hwm_mib", "range TCP {n}: helper peak RSS, MiB", "%.1f"),
    ("rt_kib_per_port", "range TCP {n}: RSS per port, KiB", "%.2f"),
    ("rt_fds", "range TCP {n}: helper fds", "%.0f"),
    ("ru_ready_ms", "range TCP+UDP 2x{h}: ready, ms", "%.0f"),
    ("ru_true_ms", "range TCP+UDP 2x{h}: `-- true` wall, ms", "%.0f"),
    ("ru_probe_ok", "range TCP+UDP 2x{h}: sampled forwards answering", "%.0f"),
    ("ru_hwm_mib", "range TCP+UDP 2x{h}: helper peak RSS, MiB", "%.1f"),
    ("ru_kib_per_port", "range TCP+UDP 2x{h}: RSS per forward, KiB", "%.2f"),
    ("ru_fds", "range TCP+UDP 2x{h}: helper fds", "%.0f"),
    ("ar_post_ms", "API: POST a {n}-port range, ms", "%.1f"),
    ("ar_probe_ok", "API: sampled forwards of the range answering", "%.0f"),
    ("ar_list1_ms", "API: GET with the range, ms", "%.1f"),
    ("ar_delete_ms", "API: DELETE the range, ms", "%.1f"),
    ("ar_bulk_add_s", "API: {n} single-port POSTs, s", "%.2f"),
    ("ar_list_ms", "API: GET with {n} entries, ms", "%.1f"),
    ("ar_list_kib", "API: GET with {n} entries, KiB", "%.0f"),
    ("ar_bulk_del_s", "API: {n} DELETEs, s", "%.2f"),
    ("ar_hwm_mib", "API: helper peak RSS with {n} entries, MiB", "%.1f"),
    ("ac_conns", "active: connections asked", "%.0f"),
    ("ac_established", "active: connections established", "%.0f"),
    ("ac_lost", "active: connections lost or never up", "%.0f"),
    ("ac_msgs", "active: echoes timed", "%.0f"),
    ("ac_avg_us", "active: echo RTT avg, us", "%.0f"),
    ("ac_p50_us", "active: echo RTT p50, us", "%.0f"),
    ("ac_p99_us", "active: echo RTT p99, us", "%.0f"),
    ("ac_rss_mib", "active: helper RSS under load (max), MiB", "%.1f"),
    ("ac_kib_per_conn", "active: helper RSS per connection, KiB", "%.2f"),
    ("ac_fds_per_conn", "active: helper fds per connection", "%.2f"),
    ("ac_kernel_mib", "active: kernel TCP memory growth (sockstat), MiB", "%.1f"),
    ("ac_cpu_pct", "active: helper CPU %", "%.0f"),
    ("ap_close_rate", "API {r} pairs/s, new conn: achieved pairs/s", "%.0f"),
    ("ap_close_p99_us", "API {r} pairs/s, new conn: request p99, us", "%.0f"),
    ("ap_close_fail", "API {r} pairs/s, new conn: failed pairs", "%.0f"),
    ("ap_keep_rate", "API {r} pairs/s, keep-alive: achieved pairs/s", "%.0f"),
    ("ap_keep_p99_us", "API {r} pairs/s, keep-alive: request p99, us", "%.0f"),
    ("ap_keep_fail", "API {r} pairs/s, keep-alive: failed pairs", "%.0f"),
    ("ap_tcp_alone_gbps", "iperf3 beside it: alone, Gbit/s", "%.2f"),
    ("ap_tcp_close_gbps", "iperf3 beside it: with API new-conn load, Gbit/s", "%.2f"),
    ("ap_tcp_keep_gbps", "iperf3 beside it: with API keep-alive load, Gbit/s", "%.2f"),
    ("ap_max_close_rate", "API most pairs/s, new conn", "%.0f"),
    ("ap_max_keep_rate", "API most pairs/s, keep-alive", "%.0f"),
]
METRIC_FMT = {k: f for k, _, f in METRICS}


# ---------------------------------------------------------------- helper processes

class ScaleHelper(B.Helper):
    """A helper (or, for direct, the server alone) started from a full command line."""

    def __init__(self, ctx, kind, cmd, limit, tag):
        self.ctx, self.kind = ctx, kind
        self.logpath = os.path.join(ctx.logdir, "%s-%s.log" % (tag, kind))
        self.logf = open(self.logpath, "ab")
        shown = " ".join(cmd)
        if len(shown) > 600:  # rootlesskit's 10 000 -p flags
            shown = shown[:300] + " ... (%d arguments) ... " % len(cmd) + shown[-200:]
        self.logf.write(("$ %s\n" % shown).encode())
        self.logf.flush()
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(ctx.wrap(cmd, limit), stdout=self.logf, stderr=self.logf,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def tail(self, n=300):
        """The end of the helper's log, for the failure notes."""
        self.logf.flush()
        try:
            with open(self.logpath, "rb") as f:
                text = f.read().decode(errors="replace").strip().splitlines()
        except OSError:
            return ""
        text = [line for line in text if not line.startswith("$ ")]
        return " | ".join(text[-3:])[-n:]


def state_dir(ctx):
    ctx.seq += 1
    return os.path.join(ctx.tmp, "s%d" % ctx.seq)


def forward_cmd(ctx, kind, state, specs):
    """The helper's command line for forwards specs [(proto, host_lo, ns_lo, count)], up to --.

    rootlesskit 1.1 has no port ranges: it gets one -p per port.
    """
    if kind == "npte":
        cmd = [ctx.npte, "run", "--state-dir", state]
        for proto, lo, inner, n in specs:
            rng = "%d" % lo if n == 1 else "%d-%d" % (lo, lo + n - 1)
            irng = "%d" % inner if n == 1 else "%d-%d" % (inner, inner + n - 1)
            cmd += ["-p", "127.0.0.1:%s:%s/%s" % (rng, irng, proto)]
        return cmd + ["--"]
    if kind == "rootlesskit":
        cmd = ["rootlesskit", "--state-dir", state, "--net=slirp4netns",
               "--disable-host-loopback", "--port-driver=builtin"]
        for proto, lo, inner, n in specs:
            for i in range(n):
                cmd += ["-p", "127.0.0.1:%d:%d/%s" % (lo + i, inner + i, proto)]
        return cmd + ["--"]
    if kind == "pasta":
        cmd = ["pasta", "--config-net", "-q", "-T", "none", "-U", "none"]
        for flag, proto in (("-t", "tcp"), ("-u", "udp")):
            mine = [s for s in specs if s[0] == proto]
            if not mine:
                cmd += [flag, "none"]
            for _, lo, inner, n in mine:
                if n == 1:
                    cmd += [flag, "127.0.0.1/%d:%d" % (lo, inner)]
                else:
                    cmd += [flag, "127.0.0.1/%d-%d:%d-%d" % (lo, lo + n - 1, inner,
                                                              inner + n - 1)]
        return cmd + ["--"]
    raise ValueError(kind)


def range_server(ctx, lo, hi, protos, limit):
    return ["timeout", "-k", "2", str(limit), ctx.scaleload, "range-server", "127.0.0.1",
            str(lo), str(hi), protos, str(limit)]


def start(ctx, kind, specs, payload, limit, tag, state=None):
    """A helper with forwards specs running payload, or for direct the payload alone."""
    if kind == "direct":
        return ScaleHelper(ctx, kind, payload, limit, tag)
    state = state or state_dir(ctx)
    return ScaleHelper(ctx, kind, forward_cmd(ctx, kind, state, specs) + payload, limit, tag)


def probe(ctx, proto, ports, seconds):
    """scaleload probe: (answered, failed, CLOCK_MONOTONIC when the last answered)."""
    r = ctx.run([ctx.scaleload, "probe", "127.0.0.1", proto, str(seconds),
                 ",".join(map(str, ports))], seconds + len(ports) + 10)
    d = kv(r.stdout)
    return int(d.get("ok", 0)), int(d.get("failed", len(ports))), d.get("done_mono", 0.0)


def sample_mem(h, until, every=0.25):
    """Poll the helper's memory until until() is true; the reading with the largest RSS."""
    best = h.mem()
    while not until():
        m = h.mem()
        if m["rss_kib"] > best["rss_kib"]:
            best = m
        time.sleep(every)
    return best


def true_wall_ms(ctx, kind, specs, runs):
    """Median wall time of `<helper> <forwards> -- true` (direct: unshare -Urn true).

    Return: (ms, None), or (None, the failure's last line).
    """
    times, failures = [], 0
    while len(times) < runs:
        if kind == "direct":
            cmd = ["unshare", "-Urn", "true"]
        else:
            cmd = forward_cmd(ctx, kind, state_dir(ctx), specs) + ["true"]
        t0 = time.monotonic()
        r = ctx.run(cmd, 60)
        t = time.monotonic() - t0
        if r.returncode != 0:
            # rootlesskit 1.1 sometimes fails `-- true` (its port driver's socket is gone when
            # the payload exits at once): two failures are retried, as bench.py skips them
            failures += 1
            if failures > 2:
                lines = (r.stdout + r.stderr).strip().splitlines()
                return None, lines[-1] if lines else "exit %d" % r.returncode
            continue
        times.append(t * 1000)
    return statistics.median(times), None


def kv(line):
    """"key value key value ..." -> {key: float} (words that are not numbers are skipped)."""
    out = {}
    w = line.split()
    for i in range(0, len(w) - 1, 2):
        try:
            out[w[i]] = float(w[i + 1])
        except ValueError:
            pass
    return out


def free_port_at(port):
    """Whether TCP port on 127.0.0.1 can be bound now."""
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


# ---------------------------------------------------------------- scenarios

def block_free(lo, n):
    """Whether ports lo..lo+n-1 of 127.0.0.1 can all be bound now, for TCP and for UDP."""
    for port in range(lo, lo + n):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
            finally:
                s.close()
    return True


def pick_base(a, n):
    """The first port of n free ports: --range-base if it is free, else another block of the
    ports below the ephemeral range (other programs on the machine use some of them)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            eph = int(f.read().split()[0])
    except (OSError, ValueError):
        eph = 32768
    for lo in [a.range_base] + list(range(10000, eph - n, 500)):
        if lo != a.range_base and lo + n > eph:
            continue
        if block_free(lo, n):
            return lo
    return a.range_base


def sc_range(ctx, kind, a, protos, prefix, notes):
    """range-tcp / range-tcpudp: N forwards of protos, on a block of free ports.

    A port of the block can still be taken by another program between the check and the
    helper's bind: then the scenario runs again on another block (at most 3 times).
    """
    per = a.range_ports // len(protos)
    for attempt in range(3):
        lo = pick_base(a, per)
        mine = []
        res = sc_range_once(ctx, kind, a, protos, prefix, mine, lo)
        if attempt == 2 or not any("in use" in x for x in mine):
            break
        log("  %s %s: a port of %d-%d was taken meanwhile (%s); again on another block" % (
            prefix, kind, lo, lo + per - 1, mine[0][-120:]))
    notes += mine
    res[prefix + "_base"] = lo
    return res


def sc_range_once(ctx, kind, a, protos, prefix, notes, lo):
    """One attempt of sc_range() on the ports lo..lo+N/len(protos)-1."""
    per = a.range_ports // len(protos)
    hi = lo + per - 1
    specs = [(p, lo, lo, per) for p in protos]
    limit = 120
    pset = ",".join(protos)
    res = {}
    # baseline: the same helper with one forward per proto, for the memory per port
    base = None
    if kind != "direct":
        with start(ctx, kind, [(p, lo, lo, 1) for p in protos],
                   range_server(ctx, lo, lo, pset, limit), limit + 5, prefix + "-base") as h:
            okc = all(probe(ctx, p, [lo], 15)[0] == 1 for p in protos)
            base = h.mem() if okc and h.alive() else None
    with start(ctx, kind, specs, range_server(ctx, lo, hi, pset, limit), limit + 5,
               prefix) as h:
        # ready: the first and the last port of every proto answer
        done = []
        for p in protos:
            ok, failed, t = probe(ctx, p, [hi, lo], a.ready_seconds)
            done.append(t if failed == 0 else None)
        if None in done or not h.alive():
            notes.append("%s %s: not ready within %d s: %s" % (prefix, kind, a.ready_seconds,
                                                               h.tail()))
        else:
            res[prefix + "_ready_ms"] = (max(done) - h.t0) * 1000
        if h.alive():
            forwards = [(p, port) for p in protos for port in range(lo, hi + 1)]
            sample = random.sample(forwards, min(a.sample, len(forwards)))
            okt = 0
            for p in protos:
                ports = [port for q, port in sample if q == p]
                if ports:
                    ok, failed, _ = probe(ctx, p, ports, 3)
                    okt += ok
            res[prefix + "_probe_ok"] = okt
            res[prefix + "_probe_n"] = len(sample)
            if okt < len(sample):
                notes.append("%s %s: %d of %d sampled forwards answered%s" % (
                    prefix, kind, okt, len(sample),
                    " (pasta 2023-03 returns no UDP replies on its spliced path)"
                    if kind == "pasta" and "udp" in protos else ""))
            if kind != "direct":
                m = h.mem()
                res[prefix + "_hwm_mib"] = m["hwm_kib"] / 1024
                res[prefix + "_rss_mib"] = m["rss_kib"] / 1024
                res[prefix + "_fds"] = m["fds"]
                if base:
                    res[prefix + "_kib_per_port"] = ((m["rss_kib"] - base["rss_kib"])
                                                     / (a.range_ports - len(protos)))
        else:
            notes.append("%s %s: exited: %s" % (prefix, kind, h.tail()))
        h.logf.flush()
        with open(h.logpath, errors="replace") as f:
            inh = re.search(r"closed (\d+) inherited fds", f.read())
        if inh:
            notes.append("%s %s: the payload inherited %s open fds from the helper (the server "
                         "closes them before it listens)" % (prefix, kind, inh.group(1)))
    ms, err = true_wall_ms(ctx, kind, specs, a.true_runs)
    if ms is not None:
        res[prefix + "_true_ms"] = ms
    else:
        notes.append("%s %s: `-- true` failed: %s" % (prefix, kind, err[-200:]))
    return res


def sc_range_tcp(ctx, kind, a, notes):
    return sc_range(ctx, kind, a, ["tcp"], "rt", notes)


def sc_range_tcpudp(ctx, kind, a, notes):
    return sc_range(ctx, kind, a, ["tcp", "udp"], "ru", notes)


def api_req(ctx, sock, method, path, body=None):
    """apirate req: (status, ms, body bytes, id, body text or "")."""
    cmd = [ctx.apirate, "req", sock, method, path] + ([body] if body else [])
    r = ctx.run(cmd, 30)
    lines = r.stdout.splitlines()
    d = kv(lines[0] if lines else "")
    return (int(d.get("status", -1)), d.get("us", 0) / 1000, int(d.get("bytes", 0)),
            int(d.get("id", -1)), "\n".join(lines[1:]) if len(lines) > 1 else r.stderr)


def wait_api(h, sock, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end and h.alive():
        if os.path.exists(sock):
            return True
        time.sleep(0.05)
    return False


def sc_api_range(ctx, kind, a, notes):
    if kind not in ("npte", "rootlesskit"):
        return {}
    n = a.range_ports
    lo = pick_base(a, n)
    hi = lo + n - 1
    limit = 200
    state = state_dir(ctx)
    sock = os.path.join(state, "api.sock")
    res = {}
    with start(ctx, kind, [], range_server(ctx, lo, hi, "tcp", limit), limit + 5, "api-range",
               state=state) as h:
        if not wait_api(h, sock):
            notes.append("api-range %s: no api.sock: %s" % (kind, h.tail()))
            return res
        time.sleep(0.5)
        spec = json.dumps({"proto": "tcp", "parentIP": "127.0.0.1", "parentPort": lo,
                           "childPort": lo, "portCount": n})
        st, ms, _, pid, body = api_req(ctx, sock, "POST", "/v1/ports", spec)
        if st == 201 and '"portCount":%d' % n in body.replace(" ", ""):
            res["ar_post_ms"] = ms
            ok, _, _ = probe(ctx, "tcp", random.sample(range(lo, hi + 1), a.sample), 3)
            res["ar_probe_ok"] = ok
            st2, ms2, _, _, _ = api_req(ctx, sock, "GET", "/v1/ports")
            if st2 == 200:
                res["ar_list1_ms"] = ms2
        else:
            notes.append("api-range %s: POST of a %d-port range: status %d, %s" % (
                kind, n, st, "only one port was added (no port ranges: \"portCount\" ignored)"
                if st == 201 else body.strip()[-200:]))
        if pid > 0:
            st3, ms3, _, _, body3 = api_req(ctx, sock, "DELETE", "/v1/ports/%d" % pid)
            if st3 == 200 and "ar_post_ms" in res:
                res["ar_delete_ms"] = ms3
        # 10 000 entries, one request each (keep-alive)
        r = ctx.run([ctx.apirate, "bulk", sock, "add", str(lo), str(hi), "keepalive"], 150)
        d = kv(r.stdout)
        if d.get("failures", 1) == 0:
            res["ar_bulk_add_s"] = d["seconds"]
            lists = [api_req(ctx, sock, "GET", "/v1/ports") for _ in range(3)]
            good = [x for x in lists if x[0] == 200]
            if good:
                res["ar_list_ms"] = statistics.median(x[1] for x in good)
                res["ar_list_kib"] = good[0][2] / 1024
            res["ar_hwm_mib"] = h.mem()["hwm_kib"] / 1024
            r = ctx.run([ctx.apirate, "bulk", sock, "remove", str(int(d["first_id"])),
                         str(int(d["last_id"])), "keepalive"], 150)
            d2 = kv(r.stdout)
            if d2.get("failures", 1) == 0:
                res["ar_bulk_del_s"] = d2["seconds"]
        else:
            notes.append("api-range %s: 10 000 single-port POSTs: %s" % (
                kind, (r.stdout + r.stderr).strip()[-200:]))
    return res


def sockstat_tcp_pages():
    try:
        with open("/proc/net/sockstat") as f:
            for line in f:
                if line.startswith("TCP:"):
                    w = line.split()
                    return int(w[w.index("mem") + 1])
    except (OSError, ValueError):
        pass
    return None


def sc_active(ctx, kind, a, notes):
    # A forwarder needs two fds per connection, under the same hard limit as everybody, plus
    # its own (listeners, pipes, the namespace socket pool): --fd-margin of them.
    n = min(a.active_conns, (ctx.nofile_hard - a.fd_margin) // 2)
    limit = a.active_seconds + 60 + n // 1000
    inner = 7790
    port = B.free_port()
    res = {"ac_conns": n}
    payload = range_server(ctx, inner if kind != "direct" else port,
                           inner if kind != "direct" else port, "tcp", limit)
    with start(ctx, kind, [("tcp", port, inner, 1)], payload, limit + 5, "active") as h:
        ok, _, _ = probe(ctx, "tcp", [port], 15)
        if not ok:
            notes.append("active %s: the forward never answered: %s" % (kind, h.tail()))
            return res
        base = h.mem() if kind != "direct" else None
        k0, c0, t0 = sockstat_tcp_pages(), h.cpu(), time.monotonic()
        cl = subprocess.Popen(ctx.wrap([ctx.scaleload, "echo-load", "127.0.0.1", str(port),
                                        str(n), str(a.active_seconds), str(a.active_interval),
                                        str(a.active_len)], limit),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
        kmax = [0]

        def done():
            k = sockstat_tcp_pages()
            if k is not None and k0 is not None:
                kmax[0] = max(kmax[0], k - k0)
            return cl.poll() is not None

        peak = sample_mem(h, done, 1.0) if kind != "direct" else None
        while kind == "direct" and not done():
            time.sleep(0.5)
        so, se = cl.communicate()
        c1, t1 = h.cpu(), time.monotonic()
        d = kv(so)
        if "established" not in d:
            notes.append("active %s: echo-load failed: %s" % (kind, (so + se).strip()[-200:]))
            return res
        res.update({"ac_established": d["established"],
                    "ac_lost": d["lost"] + d["connect_failed"], "ac_msgs": d["msgs"],
                    "ac_late": d["late"], "ac_avg_us": d["avg_us"], "ac_p50_us": d["p50_us"],
                    "ac_p99_us": d["p99_us"], "ac_max_us": d["max_us"],
                    "ac_kernel_mib": kmax[0] * 4096 / 2**20})
        if res["ac_lost"]:
            notes.append("active %s: %d of %d connections lost or never established "
                         "(%d connect failures)%s" % (
                             kind, res["ac_lost"], n, d["connect_failed"],
                             "" if h.alive() else "; helper exited: " + h.tail()))
        if kind != "direct":
            res["ac_rss_mib"] = peak["rss_kib"] / 1024
            res["ac_hwm_mib"] = h.mem()["hwm_kib"] / 1024
            res["ac_cpu_pct"] = 100.0 * (c1 - c0) / max(t1 - t0, 1e-3)
            held = d["established"]
            if held:
                res["ac_kib_per_conn"] = (peak["rss_kib"] - base["rss_kib"]) / held
                res["ac_fds_per_conn"] = (peak["fds"] - base["fds"]) / held
    return res


def iperf(ctx, port, seconds):
    cmd = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(seconds), "-J",
           "--connect-timeout", "3000"]
    p = subprocess.Popen(ctx.wrap(cmd, seconds + 20), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    return p


def iperf_gbps(p):
    so, se = p.communicate()
    j = B.iperf_json(subprocess.CompletedProcess([], p.returncode, so, se))
    return j["end"]["sum_received"]["bits_per_second"] / 1e9 if j else None


def api_port_block(count):
    """count consecutive ports free for TCP on 127.0.0.1 below the ephemeral range."""
    for _ in range(50):
        lo = random.randint(30000, 32500 - count)
        if all(free_port_at(p) for p in (lo, lo + count // 2, lo + count - 1)):
            return lo
    return 30000


def sc_apirate(ctx, kind, a, notes):
    if kind not in ("npte", "rootlesskit"):
        return {}
    secs = a.api_seconds
    limit = 4 * secs + 2 * a.api_max_seconds + 90
    state = state_dir(ctx)
    sock = os.path.join(state, "api.sock")
    port = B.free_port()
    lo = api_port_block(1000)
    payload = ["timeout", "-k", "2", str(limit), "iperf3", "-s", "-p", "5201"]
    res = {}
    with start(ctx, kind, [("tcp", port, 5201, 1)], payload, limit + 5, "apirate",
               state=state) as h:
        if not wait_api(h, sock):
            notes.append("apirate %s: no api.sock: %s" % (kind, h.tail()))
            return res
        B.retry(ctx, h, ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", "1", "-J"], 20,
                lambda r: B.iperf_json(r) is not None)
        g = iperf_gbps(iperf(ctx, port, secs))
        if g is not None:
            res["ap_tcp_alone_gbps"] = g
        for mode, key in (("close", "close"), ("keepalive", "keep")):
            ip = iperf(ctx, port, secs)
            time.sleep(0.3)
            r = ctx.run([ctx.apirate, "rate", sock, str(a.api_rate), str(secs - 0.6), str(lo),
                         str(lo + 999), mode], secs + 20)
            g = iperf_gbps(ip)
            d = kv(r.stdout)
            if "rate" in d:
                res["ap_%s_rate" % key] = d["rate"]
                res["ap_%s_p99_us" % key] = d["p99_us"]
                res["ap_%s_avg_us" % key] = d["avg_us"]
                res["ap_%s_fail" % key] = d["failures"]
                if d["failures"]:
                    notes.append("apirate %s %s: %d failed pairs: %s" % (
                        kind, mode, d["failures"], r.stderr.strip().splitlines()[0][-200:]
                        if r.stderr.strip() else ""))
            else:
                notes.append("apirate %s %s: %s" % (kind, mode, (r.stdout + r.stderr)[-200:]))
            if g is not None:
                res["ap_tcp_%s_gbps" % key] = g
        for mode, key in (("close", "close"), ("keepalive", "keep")):
            r = ctx.run([ctx.apirate, "rate", sock, "0", str(a.api_max_seconds), str(lo),
                         str(lo + 999), mode], a.api_max_seconds + 20)
            d = kv(r.stdout)
            if "rate" in d:
                res["ap_max_%s_rate" % key] = d["rate"]
    return res


SCENARIO_FN = {"range-tcp": sc_range_tcp, "range-tcpudp": sc_range_tcpudp,
               "api-range": sc_api_range, "active": sc_active, "apirate": sc_apirate}


# ---------------------------------------------------------------- report

def table(med, helpers, a, npte="npte"):
    peers = [h for h in helpers if h != npte]
    head = ["metric"] + helpers + (["npte/" + p for p in peers] if npte in helpers else [])
    rows = []
    for key, label, f in METRICS:
        vals = [med.get(h, {}).get(key) for h in helpers]
        if all(v is None for v in vals):
            continue
        label = label.format(n=a.range_ports, h=a.range_ports // 2, r="%g" % a.api_rate)
        row = [label] + [f % v if v is not None else "-" for v in vals]
        n = med.get(npte, {}).get(key)
        for p in peers:
            pv = med.get(p, {}).get(key)
            # a peer value that shows as zero (pasta's RSS per port) gives no ratio
            shown = float(f % pv) if pv is not None else 0.0
            row.append("%.2fx" % (n / pv) if n is not None and shown > 0 and n >= 0
                       else "-")
        rows.append(row)
    w = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                               for i, c in enumerate(r)) + " |" for r in [head] + rows]
    lines.insert(1, "|" + "|".join("-" * (w[i] + 1) + (":" if i else "-")
                                   for i in range(len(head))) + "|")
    return "\n".join(lines)


def targets(n, a):
    """The issue-11 targets on npte's medians: [(target, shown value, ok or None)]."""
    out = []

    def add(name, key, ok, shown):
        name = name.replace("10k", str(a.range_ports)).replace("1 000", "%g" % a.api_rate)
        name = name.format(n=a.range_ports)
        v = n.get(key)
        out.append((name, shown % v if v is not None else "n/a",
                    ok(v) if v is not None else None))

    add("range TCP 10k ready < 1 s", "rt_ready_ms", lambda v: v < 1000, "%.0f ms")
    add("range TCP 10k `-- true` < 1 s", "rt_true_ms", lambda v: v < 1000, "%.0f ms")
    add("range TCP 10k helper peak RSS <= 16 MiB", "rt_hwm_mib", lambda v: v <= 16, "%.1f MiB")
    add("range TCP {n}: every sampled forward answers", "rt_probe_ok",
        lambda v: v >= n.get("rt_probe_n", a.sample), "%.0f")
    add("range TCP+UDP 10k ready < 1 s", "ru_ready_ms", lambda v: v < 1000, "%.0f ms")
    add("range TCP+UDP 10k helper peak RSS <= 16 MiB", "ru_hwm_mib", lambda v: v <= 16,
        "%.1f MiB")
    add("range TCP+UDP 10k: every sampled forward answers", "ru_probe_ok",
        lambda v: v >= n.get("ru_probe_n", a.sample), "%.0f")
    add("API: 10k-port range added in one POST, sampled forwards answer", "ar_probe_ok",
        lambda v: v >= a.sample, "%.0f answered")
    add("API: GET with 10k entries < 50 ms", "ar_list_ms", lambda v: v < 50, "%.1f ms")
    add("active: no connection lost", "ac_lost", lambda v: v == 0, "%.0f lost")
    add("active: helper RSS <= 32 MiB", "ac_rss_mib", lambda v: v <= 32, "%.1f MiB")
    add("API: 1 000 pairs/s sustained (new conn per request)", "ap_close_rate",
        lambda v: v >= 0.98 * a.api_rate and not n.get("ap_close_fail"), "%.0f pairs/s")
    add("API: 1 000 pairs/s sustained (keep-alive)", "ap_keep_rate",
        lambda v: v >= 0.98 * a.api_rate and not n.get("ap_keep_fail"), "%.0f pairs/s")
    alone = n.get("ap_tcp_alone_gbps")
    for key, what in (("ap_tcp_close_gbps", "new conn"), ("ap_tcp_keep_gbps", "keep-alive")):
        v = n.get(key)
        r = v / alone if v is not None and alone else None
        out.append(("iperf3 with API load (%s) >= 0.85x alone" % what,
                    "%.2fx" % r if r is not None else "n/a",
                    r >= 0.85 if r is not None else None))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--npte", required=True)
    ap.add_argument("--scaleload", required=True)
    ap.add_argument("--apirate", required=True)
    ap.add_argument("--connrate", help="unused; accepted so run.sh can pass the same options")
    ap.add_argument("--user", help="run everything as this user (required as root)")
    ap.add_argument("--out", default="bench/out/latest")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="shorter load phases")
    ap.add_argument("--helpers", default=",".join(HELPERS_DEFAULT))
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--range-base", type=int, default=20000)
    ap.add_argument("--range-ports", type=int, default=10000, help="forwards per range test")
    ap.add_argument("--sample", type=int, default=200, help="random forwards probed")
    ap.add_argument("--ready-seconds", type=int, default=30)
    ap.add_argument("--true-runs", type=int, default=3)
    ap.add_argument("--active-conns", type=int, default=10000)
    ap.add_argument("--active-seconds", type=int, default=30)
    ap.add_argument("--active-interval", type=int, default=1000,
                    help="ms between two messages of one connection")
    ap.add_argument("--active-len", type=int, default=64, help="bytes per message")
    ap.add_argument("--fd-margin", type=int, default=400,
                    help="fds left to the helper's own use when the hard limit caps the "
                         "active connections: (hard - margin) / 2")
    ap.add_argument("--api-rate", type=float, default=1000, help="add+remove pairs/s")
    ap.add_argument("--api-seconds", type=int, default=30)
    ap.add_argument("--api-max-seconds", type=int, default=5)
    ap.add_argument("--nofile", type=int, default=65536, help="hard RLIMIT_NOFILE for the run")
    a = ap.parse_args()
    if a.quick:
        a.active_seconds = a.api_seconds = 10
        a.true_runs = 1
        a.api_max_seconds = 3
    a.helpers = [h for h in a.helpers.split(",") if h]
    for h in a.helpers:
        if h not in HELPERS_DEFAULT:
            sys.exit("unknown helper %s (scale knows %s)" % (h, ",".join(HELPERS_DEFAULT)))
    a.helpers = [h for h in a.helpers if B.have_helper(h)]
    scen = [s for s in a.scenarios.split(",") if s]
    for s in scen:
        if s not in SCENARIO_FN:
            sys.exit("unknown scenario %s" % s)
    # bench.Ctx reads these attributes
    a.connrate = a.connrate or a.scaleload
    ctx = B.Ctx(a)
    ctx.scaleload = os.path.abspath(a.scaleload)
    ctx.apirate = os.path.abspath(a.apirate)
    t_start = time.time()
    runs, notes = [], []
    try:
        for run in range(a.runs):
            for s in scen:
                order = a.helpers[run % len(a.helpers):] + a.helpers[:run % len(a.helpers)]
                for kind in order:
                    load = float(open("/proc/loadavg").read().split()[0])
                    t0 = time.monotonic()
                    mine = []
                    try:
                        m = SCENARIO_FN[s](ctx, kind, a, mine)
                    except Exception as e:  # one failure must not lose the run
                        mine.append("%s %s: %r" % (s, kind, e))
                        m = {}
                    ctx.sweep()
                    mine = [" | ".join(x.split("\n")) for x in mine]
                    notes += ["run %d: %s" % (run + 1, x) for x in mine]
                    if not m and not mine:
                        continue
                    runs.append({"run": run + 1, "helper": kind, "scenario": s, "load1": load,
                                 "seconds": round(time.monotonic() - t0, 1), "metrics": m,
                                 "notes": mine})
                    log("run %d %-12s %-11s load %.2f %s" % (
                        run + 1, s, kind, load,
                        " ".join("%s=%.4g" % (k, v) for k, v in sorted(m.items()))))
                    for x in mine:
                        log("    note: " + x)
    finally:
        left = ctx.sweep()
        ctx.cleanup()
    med = {}
    for kind in a.helpers:
        vals = {}
        for r in runs:
            if r["helper"] == kind:
                for k, v in r["metrics"].items():
                    vals.setdefault(k, []).append(v)
        med[kind] = {k: B.median(v) for k, v in vals.items()}
    tab = table(med, a.helpers, a)
    tg = targets(med.get("npte", {}), a) if "npte" in a.helpers else []
    loads = [r["load1"] for r in runs]
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "kernel": os.uname().release,
            "cpus": os.cpu_count(), "runs": a.runs, "quick": a.quick,
            "wall_seconds": round(time.time() - t_start), "args": vars(a),
            "tools": B.tool_versions(), "load1_min": min(loads) if loads else None,
            "load1_max": max(loads) if loads else None, "leftover_pids": left,
            "nofile_hard": ctx.nofile_hard}
    try:
        meta["npte_commit"] = subprocess.run(
            ["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe", "--always",
             "--dirty"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        pass
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"meta": meta, "medians": med, "runs": runs, "notes": notes,
                   "targets": [{"target": t, "value": v, "ok": ok} for t, v, ok in tg]},
                  f, indent=1)
    with open(os.path.join(a.out, "runs.tsv"), "w") as f:
        f.write("run\thelper\tscenario\tload1\tmetric\tvalue\n")
        for r in runs:
            for k, v in sorted(r["metrics"].items()):
                f.write("%d\t%s\t%s\t%.2f\t%s\t%.6g\n" % (r["run"], r["helper"], r["scenario"],
                                                           r["load1"], k, v))
    text = ["npte scale benchmark: medians of %d run(s)%s, %s, %d CPUs, kernel %s, hard "
            "RLIMIT_NOFILE %d, load1 %.1f-%.1f, %d s" % (
                a.runs, " (quick)" if a.quick else "", meta["date"], meta["cpus"],
                meta["kernel"], ctx.nofile_hard, meta["load1_min"] or 0,
                meta["load1_max"] or 0, meta["wall_seconds"]), "", tab]
    if tg:
        text += ["", "targets (issue 11):"]
        for t, v, ok in tg:
            text.append("  [%s] %-58s %s" % ({True: "pass", False: "FAIL", None: " n/a"}[ok],
                                             t, v))
    if notes:
        text += ["", "notes (failures and limits):"] + ["  - " + x for x in notes]
    text += ["", "leftover processes: %s" % (left or "none")]
    with open(os.path.join(a.out, "table.txt"), "w") as f:
        f.write("\n".join(text) + "\n")
    print("\n".join(text))
    print("\nraw results: %s/{results.json,runs.tsv,table.txt,logs/}" % a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
