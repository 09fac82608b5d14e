"""bench.py --profile: perf stat / perf record / strace -c of the helpers during iperf3 and
during connrate, written next to the benchmark's results (bench/README.md, "Profiles").

Split out of bench.py, which imports it only when --profile is given.
"""
import json
import os
import signal
import subprocess
import time

import bench as B  # the shared context, helper processes and /proc readings


def perf_breakdown(path):
    """Classify perf samples (kernel call chains) by what the helper was doing: {bucket: %}."""
    r = subprocess.run(["perf", "script", "-i", path], capture_output=True, text=True,
                       timeout=300)
    buckets, total = {}, 0
    for block in r.stdout.split("\n\n"):
        lines = block.strip().splitlines()
        if len(lines) < 2:
            continue
        frames = " ".join(l.split()[1].split("+")[0] for l in lines[1:] if len(l.split()) > 1)
        soft = "handle_softirqs" in frames or "do_softirq" in frames
        if "tcp_splice_read" in frames:
            b = "splice socket->pipe (TCP receive)"
        elif "splice_to_socket" in frames:
            b = "splice pipe->socket (TCP send, loopback xmit)"
        elif "tcp_recvmsg" in frames:
            b = "read/recvmsg from a TCP socket"
        elif "tcp_sendmsg" in frames:
            b = "write/sendmsg to a TCP socket"
        elif "ep_poll" in frames or "do_epoll_wait" in frames or "do_sys_poll" in frames:
            b = "epoll/poll wait"
        elif "entry_SYSCALL" in frames:
            b = "other syscalls"
        elif "[kernel" in block:
            b = "other kernel (irq, scheduler)"
        else:
            b = "user space"
        total += 1
        buckets[b] = buckets.get(b, 0) + 1
        if soft:
            k = "  of all samples: softirq (loopback delivery to the peer socket, ACKs)"
            buckets[k] = buckets.get(k, 0) + 1
    return {k: 100.0 * v / total for k, v in buckets.items()} if total else {}


def strace_count(pids, seconds):
    """strace -c -f of pids for seconds: (text, {syscall: calls})."""
    cmd = ["timeout", "-s", "INT", str(seconds), "strace", "-c", "-f"]
    for p in pids:
        cmd += ["-p", str(p)]
    pr = subprocess.run(cmd, capture_output=True, text=True)
    calls = {}
    for line in pr.stderr.splitlines():
        f = line.split()
        if len(f) >= 5 and f[-1].isidentifier() and f[3].isdigit() and f[-1] != "total":
            calls[f[-1]] = int(f[3])
    return pr.stderr, calls


def profile(ctx, a):
    """perf stat / perf record / strace -c of the helpers during iperf3 and during connrate."""
    d = a.profile_seconds
    summary = {}
    for kind in [k for k in ("npte", "pasta", "rootlesskit") if k in a.helpers]:
        limit = 3 * (d + 30)
        payload = lambda p: ["timeout", "-k", "2", str(limit), "iperf3", "-s", "-p", str(p)]
        base = os.path.join(ctx.out, "perf-%s" % kind)
        summary[kind] = {}
        with B.Helper(ctx, kind, ["tcp"], 5201, payload, limit, "profile") as h:
            cmd = ["iperf3", "-c", "127.0.0.1", "-p", str(h.port), "-t", str(d), "-J"]
            B.retry(ctx, h, ["iperf3", "-c", "127.0.0.1", "-p", str(h.port), "-t", "1", "-J"],
                  20, lambda r: B.iperf_json(r) is not None)
            pids, main = h.pids(), h.main_pid()
            if main is None:
                continue
            for tool in ("stat", "record", "strace"):
                cl = subprocess.Popen(ctx.wrap(cmd, d + 20), stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True)
                time.sleep(1)
                span = max(d - 2, 1)
                if tool == "stat":
                    pr = subprocess.run(["timeout", str(d + 10), "perf", "stat", "-p",
                                         ",".join(map(str, pids)), "--", "sleep", str(span)],
                                        capture_output=True, text=True)
                    out = pr.stderr
                elif tool == "record":
                    subprocess.run(["timeout", str(d + 10), "perf", "record", "-q", "-g",
                                    "-o", base + ".data", "-p", str(main), "--", "sleep",
                                    str(span)], capture_output=True, text=True)
                    bd = perf_breakdown(base + ".data")
                    summary[kind]["tcp_fwd1_perf_breakdown_pct"] = bd
                    out = "# where the samples are (kernel call chains)\n" + "".join(
                        "%6.1f %%  %s\n" % (v, k) for k, v in sorted(bd.items(),
                                                                   key=lambda x: -x[1]))
                    for sort in ("sym", "dso"):
                        pr = subprocess.run(["perf", "report", "-i", base + ".data",
                                             "--stdio", "--no-children", "-g", "none",
                                             "--percent-limit", "0.5", "--sort", sort],
                                            capture_output=True, text=True, timeout=300)
                        out += pr.stdout
                else:
                    out, calls = strace_count([main], span)
                so, _ = cl.communicate(timeout=d + 30)
                j = B.iperf_json(subprocess.CompletedProcess(cmd, 0, so, ""))
                gbps = j["end"]["sum_received"]["bits_per_second"] / 1e9 if j else 0
                if tool == "strace" and j:
                    # bytes moved while traced: iperf3's intervals from 1 s to 1 s + span
                    moved = sum(i["sum"]["bytes"] for i in j.get("intervals", [])
                                if i["sum"]["start"] >= 0.9 and i["sum"]["end"] <= span + 1.1)
                    if moved:
                        summary[kind]["tcp_syscalls_per_gb"] = {
                            k: v / (moved / 1e9) for k, v in calls.items()}
                        out += "\n# %.3f GB moved while traced: %.0f syscalls per GB\n" % (
                            moved / 1e9, sum(calls.values()) / (moved / 1e9))
                with open("%s-%s.txt" % (base, tool), "w") as f:
                    f.write("# %s %s of pid %d (%s) during iperf3 host->ns 1 stream, %.2f Gbit/s"
                            " under the tool\n" % (kind, tool, main, B.proc_exe(main), gbps))
                    f.write(out)
                B.log("  profile %s %s: %.2f Gbit/s -> %s-%s.txt" % (kind, tool, gbps, base, tool))
        # connection set-up: syscalls per connection in every helper process
        limit = 120
        payload = lambda p: ["timeout", "-k", "2", str(limit), ctx.connrate, "server",
                             "127.0.0.1", str(p), str(limit)]
        with B.Helper(ctx, kind, ["tcp"], 7777, payload, limit, "profile-conn") as h:
            B.retry(ctx, h, [ctx.connrate, "client", "127.0.0.1", str(h.port), "50", "10"], 20,
                  lambda r: r.returncode == 0)
            pids = h.pids()
            n = a.profile_conns
            # trace from before the client starts until it is done
            st = subprocess.Popen(["strace", "-c", "-f"] + sum([["-p", str(p)] for p in pids], []),
                                  stderr=subprocess.PIPE, text=True)
            time.sleep(1)
            cl = subprocess.Popen(ctx.wrap([ctx.connrate, "client", "127.0.0.1", str(h.port),
                                            str(n), "60"], 70),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            so, _ = cl.communicate(timeout=80)
            st.send_signal(signal.SIGINT)
            _, out = st.communicate(timeout=30)
            kv = B.parse_connrate(so) or {}
            calls = {}
            for line in out.splitlines():
                f = line.split()
                if len(f) >= 5 and f[-1].isidentifier() and f[3].isdigit() and f[-1] != "total":
                    calls[f[-1]] = int(f[3])
            cycles = kv.get("cycles") or n
            summary[kind]["conn_syscalls_per_conn"] = {k: v / cycles for k, v in calls.items()}
            with open("%s-conn-strace.txt" % base, "w") as f:
                f.write("# %s: strace -c -f of pids %s (%s) during connrate client %d cycles "
                        "(%s conn/s under strace)\n" % (kind, pids, [B.proc_exe(p) for p in pids],
                                                         cycles, kv.get("total")))
                f.write(out)
            B.log("  profile %s conn: %.1f syscalls per connection" % (
                kind, sum(calls.values()) / cycles if calls else 0))
    with open(os.path.join(ctx.out, "profile.json"), "w") as f:
        json.dump(summary, f, indent=1)
