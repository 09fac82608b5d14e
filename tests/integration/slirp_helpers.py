"""Shared by test_net_slirp.py and test_slirp_ports.py: bounded host servers, bulk transfer
code for both ends, namespace inspection helpers and the payload runner.

Traffic only goes to the host's loopback (127.0.0.0/8, ::1) and to addresses inside the
namespaces the tests create. Every server here is bounded in connections and in time.
"""
import hashlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import (NPTE, PY, Npte, free_port, run_tests, tcp_exchange,  # noqa: E402
                       udp_exchange, wait_for, xor)

XOR_TABLE = bytes(b ^ 0x5A for b in range(256))
MIB = 1024 * 1024
WARNING = ("npte: warning: the host's loopback (127.0.0.1) is reachable from the namespace "
           "as %s; use --disable-host-loopback to prevent it")


# --------------------------------------------------------------------------
# Bulk transfers, one direction at a time. Used on the host (exec'd below) and
# inside the namespace (part of PAYLOAD_LIB). A client sends one line:
#   "SINK\n" + DATA   the server reads to EOF and answers "LEN SHA256\n";
#   "SOURCE N SEED\n" the server sends random.Random(SEED).randbytes(N).
#
# Why not one large echo in both directions at once: see LIBSLIRP_POLL_NOTE.
# --------------------------------------------------------------------------

BULK_CODE = r'''
import hashlib, random, socket

def bulk_handle(c):
    c.settimeout(60)
    line = b""
    while not line.endswith(b"\n") and len(line) < 100:
        d = c.recv(1)
        if not d:
            break
        line += d
    words = line.decode(errors="replace").split()
    rec = {"cmd": " ".join(words)}
    if words == ["SINK"]:
        buf = bytearray()
        while True:
            d = c.recv(1 << 20)
            if not d:
                break
            buf += d
        rec["data"] = bytes(buf)
        c.sendall(("%d %s\n" % (len(buf), hashlib.sha256(buf).hexdigest())).encode())
    elif len(words) == 3 and words[0] == "SOURCE":
        c.sendall(random.Random(int(words[2])).randbytes(int(words[1])))
    c.shutdown(socket.SHUT_WR)
    c.close()
    return rec

def bulk_connect(host, port, timeout):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s

def bulk_read_all(s):
    chunks = []
    while True:
        d = s.recv(1 << 20)
        if not d:
            return b"".join(chunks)
        chunks.append(d)

def bulk_send(host, port, n, seed, timeout=120):
    """SINK: n bytes to the server; returns what it says it got and what we sent."""
    data = random.Random(seed).randbytes(n)
    s = bulk_connect(host, port, timeout)
    s.sendall(b"SINK\n")
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    reply = bulk_read_all(s).decode()
    s.close()
    return {"reply": reply, "expect": "%d %s\n" % (n, hashlib.sha256(data).hexdigest())}

def bulk_recv(host, port, n, seed, timeout=120):
    """SOURCE: n bytes from the server, compared byte for byte."""
    s = bulk_connect(host, port, timeout)
    s.sendall(("SOURCE %d %d\n" % (n, seed)).encode())
    data = bulk_read_all(s)
    s.close()
    return {"bytes": len(data), "equal": data == random.Random(seed).randbytes(n)}
'''
exec(BULK_CODE)

LIBSLIRP_POLL_NOTE = """
Regression guard: parent/slirp.c once watched and reported readability for
sockets libslirp had asked only SLIRP_POLL_OUT|ERR for; libslirp then read
into a full buffer and aborted ("soread: Assertion `buf_len != 0'"), so bulk
data both ways at once killed npte. test_bidirectional_echo_20mib covers it.
"""


# --------------------------------------------------------------------------
# Host-side servers (on the host's loopback), bounded in count and time.
# --------------------------------------------------------------------------

class HostTCPServer:
    """XOR server on ADDR:0 of the host. Records, per connection, the peer
    address, the byte count and the SHA-256 of what it received."""

    def __init__(self, addr="127.0.0.1", max_conns=16, lifetime=120):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.bind((addr, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.max_conns = max_conns
        self.deadline = time.monotonic() + lifetime
        self.conns = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.workers = []
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()

    def _accept_loop(self):
        accepted = 0
        while (not self.stopped.is_set() and accepted < self.max_conns
               and time.monotonic() < self.deadline):
            try:
                c, peer = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            accepted += 1
            t = threading.Thread(target=self._serve, args=(c, peer), daemon=True)
            t.start()
            self.workers.append(t)

    def _serve(self, c, peer):
        h = hashlib.sha256()
        n = 0
        c.settimeout(60)
        try:
            while True:
                d = c.recv(1 << 20)
                if not d:
                    break
                h.update(d)
                n += len(d)
                c.sendall(d.translate(XOR_TABLE))
            c.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            c.close()
        with self.lock:
            self.conns.append({"peer": peer[0], "bytes": n, "sha256": h.hexdigest()})

    def finished(self, timeout=30):
        """Wait for the connection handlers; return their records."""
        deadline = time.monotonic() + timeout
        for t in list(self.workers):
            t.join(max(0.0, deadline - time.monotonic()))
        with self.lock:
            return list(self.conns)

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class HostUDPServer:
    """UDP XOR echo on ADDR:0 of the host; records each datagram's peer."""

    def __init__(self, addr="127.0.0.1", max_datagrams=200, lifetime=120):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((addr, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.max_datagrams = max_datagrams
        self.deadline = time.monotonic() + lifetime
        self.peers = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while (not self.stopped.is_set() and len(self.peers) < self.max_datagrams
               and time.monotonic() < self.deadline):
            try:
                data, peer = self.sock.recvfrom(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.peers.append(peer[0])
            self.sock.sendto(data.translate(XOR_TABLE), peer)

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class HostBulkServer(HostTCPServer):
    """bulk_handle() server on the host's loopback; records each request."""

    def _serve(self, c, peer):
        try:
            rec = bulk_handle(c)
        except OSError as e:
            rec = {"error": str(e)}
            c.close()
        rec["peer"] = peer[0]
        with self.lock:
            self.conns.append(rec)


# --------------------------------------------------------------------------
# Payloads: Python run inside the namespace; the last stdout line is JSON.
# --------------------------------------------------------------------------

PAYLOAD_LIB = r'''
import errno, fcntl, hashlib, json, os, socket, struct, threading
XT = bytes(b ^ 0x5A for b in range(256))

def ifaddr4(name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    req = struct.pack("256s", name.encode())
    try:
        a = socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, req)[20:24])   # SIOCGIFADDR
        m = socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x891b, req)[20:24])   # SIOCGIFNETMASK
    except OSError:
        return None
    finally:
        s.close()
    return [a, m]

def ifaddr6(name):
    out = []
    with open("/proc/net/if_inet6") as f:
        for line in f:
            a, _, plen, scope, _, dev = line.split()
            if dev == name:
                addr = socket.inet_ntop(socket.AF_INET6, bytes.fromhex(a))
                out.append([addr, int(plen, 16), int(scope, 16)])
    return sorted(out)

def routes4():
    out = []
    with open("/proc/net/route") as f:
        next(f)
        for line in f:
            p = line.split()
            ip = lambda h: socket.inet_ntoa(struct.pack("<I", int(h, 16)))
            out.append([p[0], ip(p[1]), ip(p[2]), ip(p[7])])
    return sorted(out)

def default6():
    out = []
    with open("/proc/net/ipv6_route") as f:
        for line in f:
            p = line.split()
            if p[0] == "0" * 32 and p[1] == "00" and p[4] != "0" * 32:
                out.append([socket.inet_ntop(socket.AF_INET6, bytes.fromhex(p[4])), p[9]])
    return out

def sysfs(name, attr):
    try:
        with open("/sys/class/net/%s/%s" % (name, attr)) as f:
            return f.read().strip()
    except OSError:
        return None

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("latin-1")
    except OSError as e:
        return "ERR %s" % e.strerror

def tcp(host, port, data, timeout=60):
    """Send data, half-close, read all; report both directions."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except OSError as e:
        return {"error": errno.errorcode.get(e.errno, "timeout") if e.errno else "timeout"}
    chunks = []
    def reader():
        try:
            while True:
                d = s.recv(1 << 20)
                if not d:
                    return
                chunks.append(d)
        except OSError:
            return
    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(timeout)
    s.close()
    reply = b"".join(chunks)
    return {"sent": len(data), "sent_sha256": hashlib.sha256(data).hexdigest(),
            "reply_len": len(reply), "reply_ok": reply == data.translate(XT),
            "done": not t.is_alive()}

def udp(host, port, data, tries=5, wait=1.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(wait)
    try:
        for _ in range(tries):
            s.sendto(data, (host, port))
            try:
                r, _ = s.recvfrom(65536)
                return r == data.translate(XT)
            except socket.timeout:
                continue
        return None
    finally:
        s.close()

R = {}
'''


def ns_run(extra, body, timeout=90, state_dir=None):
    """npte run --net=slirp EXTRA -- python3 -c LIB+BODY; BODY fills dict R.

    Return: (R, stderr text); fails the test if npte did not exit 0.
    """
    code = PAYLOAD_LIB + BULK_CODE + body + "\nprint(json.dumps(R))\n"
    args = [NPTE, "run"]
    if state_dir:
        args += ["--state-dir", state_dir]
    args += ["--net=slirp"] + list(extra) + ["--", PY, "-c", code]
    res = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise AssertionError("npte %s exited %d: %s\n%s"
                             % (" ".join(extra), res.returncode, res.stderr, res.stdout))
    lines = res.stdout.strip().splitlines()
    if not lines:
        raise AssertionError("payload printed nothing; stderr: " + res.stderr)
    return json.loads(lines[-1]), res.stderr


def warnings_about_loopback(stderr):
    return [l for l in stderr.splitlines() if "loopback" in l or "10.0.2.2" in l]


def host_resolv_conf():
    try:
        with open("/etc/resolv.conf", "rb") as f:
            return f.read().decode("latin-1")
    except OSError as e:
        return "ERR %s" % e.strerror


# --------------------------------------------------------------------------
# 1, 4, 8: how the namespace is set up.
# --------------------------------------------------------------------------


def processes_mentioning(text):
    """Pids of our processes whose command line contains TEXT."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if text.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found
