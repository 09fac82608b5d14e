"""Shared helpers for npte's integration tests.

Drives the real binaries ($NPTE, $NPTE_PORT) with real namespaces and real
traffic over loopback. Every process started here is bounded in time and
killed at tear-down. A test that needs user namespaces fails (never skips)
when they are unavailable.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
NPTE = os.environ.get("NPTE", "npte")
NPTE_PORT = os.environ.get("NPTE_PORT", "npte-port")
NSSERVER = os.path.join(HERE, "nsserver.py")
PY = sys.executable or "python3"


def free_port(kind=socket.SOCK_STREAM, family=socket.AF_INET):
    """A port that is free on the host right now (best effort)."""
    s = socket.socket(family, kind)
    s.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def xor(data):
    return bytes(b ^ 0x5A for b in data)


def wait_for(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Npte:
    """One `npte run` in the background, with its payload.

    The payload defaults to nsserver.py with the given servers; `ready` is
    reached when npte wrote to --ready-fd AND the payload servers listen.
    """

    def __init__(self, publish=(), tcp=(), udp=(), cmd=None, extra=(), timeout=60,
                 state_dir=None, env=None, report_peer=False, report_peer_udp=False):
        self.tmp = tempfile.mkdtemp(prefix="npte-it-")
        self.ready_file = os.path.join(self.tmp, "server-ready")
        self.state_dir = state_dir or os.path.join(self.tmp, "state")
        args = [NPTE, "run", "--state-dir", self.state_dir]
        for p in publish:
            args += ["-p", p]
        args += list(extra)
        r, w = os.pipe()
        args += ["--ready-fd", str(w)]
        if cmd is None:
            cmd = [PY, NSSERVER, "--ready", self.ready_file, "--timeout", str(timeout)]
            for t in tcp:
                cmd += ["--tcp", t]
            for u in udp:
                cmd += ["--udp", u]
            if report_peer:
                cmd += ["--report-peer"]
            if report_peer_udp:
                cmd += ["--report-peer-udp"]
            self.has_server = True
        else:
            self.has_server = False
        args += ["--"] + list(cmd)
        self.args = args
        self.proc = subprocess.Popen(args, pass_fds=(w,), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        os.close(w)
        self.ready_r = r

    def wait_ready(self, timeout=20):
        """Wait for --ready-fd to say "1" (and the payload server, if any)."""
        import select
        rl, _, _ = select.select([self.ready_r], [], [], timeout)
        if not rl:
            self.kill()
            raise AssertionError("npte not ready in %ss: %s" % (timeout, self.stderr()))
        data = os.read(self.ready_r, 16)
        os.close(self.ready_r)
        self.ready_r = None
        if data != b"1":
            out, err = self.proc.communicate(timeout=10)
            raise AssertionError("npte failed to start (ready-fd said %r): %s" % (data, err.decode()))
        if self.has_server:
            wait_for(lambda: os.path.exists(self.ready_file), 20, "payload server")
        return self

    @property
    def api_sock(self):
        return os.path.join(self.state_dir, "api.sock")

    def port(self, *args, check=True, timeout=20):
        """Run npte-port against this instance."""
        res = subprocess.run([NPTE_PORT, "--state-dir", self.state_dir] + list(args),
                             capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise AssertionError("npte-port %s failed (%d): %s" % (args, res.returncode, res.stderr))
        return res

    def child_pid(self):
        with open(os.path.join(self.state_dir, "child_pid")) as f:
            return int(f.read())

    def stderr(self):
        try:
            _, err = self.proc.communicate(timeout=10)
            return err.decode(errors="replace")
        except Exception:
            return "(no stderr)"

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.communicate(timeout=10)
        except Exception:
            pass

    def __enter__(self):
        return self.wait_ready()

    def __exit__(self, *exc):
        self.kill()
        if self.ready_r is not None:
            os.close(self.ready_r)
        subprocess.run(["rm", "-rf", self.tmp])


def tcp_exchange(host, port, payload, timeout=20, family=None, read_peer=False):
    """Send payload, half-close, read everything back; return (reply, peer_line)."""
    fam = family or (socket.AF_INET6 if ":" in host else socket.AF_INET)
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    peer = None
    if read_peer:
        line = b""
        while not line.endswith(b"\n"):
            ch = s.recv(1)
            if not ch:
                break
            line += ch
        peer = line.decode().split()
    # Send and receive concurrently so large payloads cannot deadlock.
    import threading
    chunks = []

    def reader():
        while True:
            d = s.recv(1 << 20)
            if not d:
                return
            chunks.append(d)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    t.join(timeout)
    s.close()
    if t.is_alive():
        raise AssertionError("TCP reply did not finish in %ss" % timeout)
    return b"".join(chunks), peer


def udp_exchange(host, port, payload, timeout=5, tries=5):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(timeout / tries)
    try:
        for _ in range(tries):
            s.sendto(payload, (host, port))
            try:
                data, _ = s.recvfrom(65536)
                return data
            except socket.timeout:
                continue
        raise AssertionError("no UDP reply from %s:%d" % (host, port))
    finally:
        s.close()


def http_unix(path, method, url, body=None, raw=None, timeout=10):
    """One HTTP/1.1 request over a UNIX socket; returns (status, headers, body)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    if raw is None:
        b = body.encode() if isinstance(body, str) else (body or b"")
        req = "%s %s HTTP/1.1\r\nHost: npte\r\nConnection: close\r\n" % (method, url)
        if body is not None:
            req += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(b)
        raw = req.encode() + b"\r\n" + b
    s.sendall(raw)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding") == "chunked":
        out = b""
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line, 16)
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n + 2:]
        rest = out
    return status, headers, rest


def run_tests():
    """unittest main with a summary line; never reports skips as success."""
    prog = unittest.main(exit=False, verbosity=2)
    r = prog.result
    failed = len(r.failures) + len(r.errors)
    print("%d passed, %d failed" % (r.testsRun - failed - len(r.skipped), failed))
    sys.exit(0 if r.wasSuccessful() and not r.skipped else 1)
