"""Port ranges (one id, many listeners) and reverse ports (namespace -> host)."""
import json
import os
import socket
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import Npte, free_port, run_tests, tcp_exchange, udp_exchange, wait_for, xor  # noqa: E402


def free_range(n, kind=socket.SOCK_STREAM):
    """n consecutive ports that are free right now (best effort).

    Probed below the ephemeral range (where clients' TIME_WAIT ports pile up
    during a test run) and with SO_REUSEADDR, as npte's listeners use it.
    """
    import random
    for _ in range(200):
        base = random.randrange(20000, 32000 - n)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free range of %d ports" % n)


class HostEcho:
    """TCP and UDP XOR echo servers on the host's loopback, bounded in time."""

    def __init__(self, family=socket.AF_INET, seconds=60):
        host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        self.tcp = socket.socket(family, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((host, 0))
        self.tcp.listen(64)
        self.tcp.settimeout(0.5)
        self.udp = socket.socket(family, socket.SOCK_DGRAM)
        self.udp.bind((host, 0))
        self.udp.settimeout(0.5)
        self.tport = self.tcp.getsockname()[1]
        self.uport = self.udp.getsockname()[1]
        self.peers = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._tcp, self._udp)]
        self.deadline = seconds
        for t in self.threads:
            t.start()

    def _tcp(self):
        import time
        end = time.monotonic() + self.deadline
        while not self.stop.is_set() and time.monotonic() < end:
            try:
                c, peer = self.tcp.accept()
            except socket.timeout:
                continue
            self.peers.append(peer[0])
            c.settimeout(10)
            data = b""
            while True:
                d = c.recv(65536)
                if not d:
                    break
                data += d
            c.sendall(xor(data))
            c.close()

    def _udp(self):
        import time
        end = time.monotonic() + self.deadline
        while not self.stop.is_set() and time.monotonic() < end:
            try:
                d, peer = self.udp.recvfrom(65536)
            except socket.timeout:
                continue
            self.udp.sendto(xor(d), peer)

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(5)
        self.tcp.close()
        self.udp.close()


def ns_python(n, code, timeout=30):
    """Run python code inside npte's namespace (nsenter into the child)."""
    pid = n.child_pid()
    r = subprocess.run(["nsenter", "-t", str(pid), "-U", "--preserve-credentials", "-n",
                        sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("in-namespace client failed: " + r.stderr)
    return r.stdout.strip()


CLIENT = r'''
import socket, sys
def xor(b): return bytes(x ^ 0x5A for x in b)
def tcp(host, port, data):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam); s.settimeout(10); s.connect((host, port))
    s.sendall(data); s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        d = s.recv(65536)
        if not d: break
        out += d
    return out == xor(data)
def udp(host, port, data):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(1)
    for _ in range(5):
        s.sendto(data, (host, port))
        try: return s.recv(65536) == xor(data)
        except socket.timeout: pass
    return False
'''


class Ranges(unittest.TestCase):
    def test_publish_range_every_port(self):
        base = free_range(10)
        with Npte(publish=["127.0.0.1:%d-%d:80-89/tcp" % (base, base + 9)],
                  tcp=["127.0.0.1:%d" % p for p in range(80, 90)]) as n:
            for i in range(10):
                reply, _ = tcp_exchange("127.0.0.1", base + i, b"port %d" % i)
                self.assertEqual(reply, xor(b"port %d" % i))
            listed = [json.loads(l) for l in n.port("--json", "ls").stdout.splitlines()]
            self.assertEqual(len(listed), 1)
            self.assertEqual(listed[0]["spec"]["portCount"], 10)
            self.assertEqual(listed[0]["stats"]["connsAccepted"], 10)
            # Removed as a whole.
            n.port("rm", str(listed[0]["id"]))
            for i in range(10):
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", base + i), timeout=5)

    def test_runtime_range_udp_and_conflicts(self):
        with Npte(udp=["127.0.0.1:53", "127.0.0.1:54", "127.0.0.1:55"]) as n:
            base = free_range(3, socket.SOCK_DGRAM)
            pid = n.port("add", "udp", "%d-%d:53-55" % (base, base + 2)).stdout.strip()
            for i in range(3):
                self.assertEqual(udp_exchange("127.0.0.1", base + i, b"u%d" % i), xor(b"u%d" % i))
            r = n.port("add", "udp", "%d:53" % (base + 1), check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn("conflict with ID %s" % pid, r.stderr)
            r = n.port("add", "tcp", "%d-%d:53-60" % (base, base + 2), check=False)
            self.assertEqual(r.returncode, 1)
            self.assertIn("same length", r.stderr)

    def test_busy_port_in_range_adds_nothing(self):
        with Npte(tcp=["127.0.0.1:80"]) as n:
            base = free_range(5)
            busy = socket.socket()
            busy.bind(("127.0.0.1", base + 3))
            busy.listen(1)
            try:
                r = n.port("add", "tcp", "127.0.0.1:%d-%d:80-84" % (base, base + 4), check=False)
                self.assertEqual(r.returncode, 1)
                self.assertIn(str(base + 3), r.stderr)
                self.assertEqual(n.port("--json", "ls").stdout.strip(), "")
                with self.assertRaises(ConnectionRefusedError):
                    socket.create_connection(("127.0.0.1", base), timeout=5)
            finally:
                busy.close()


class Reverse(unittest.TestCase):
    def test_reverse_tcp_udp_v4_v6(self):
        e4, e6 = HostEcho(), HostEcho(socket.AF_INET6)
        try:
            with Npte(cmd=["sleep", "60"]) as n:
                n.port("add", "--reverse", "tcp", "127.0.0.1:%d:5432" % e4.tport)
                n.port("add", "--reverse", "udp", "127.0.0.1:%d:5353" % e4.uport)
                n.port("add", "--reverse", "tcp6", "[::1]:%d:6432" % e6.tport)
                n.port("add", "--reverse", "udp6", "[::1]:%d:6353" % e6.uport)
                out = ns_python(n, CLIENT + r'''
print(tcp("127.0.0.1", 5432, b"a" * 100000), tcp("::1", 5432, b"b"),
      udp("127.0.0.1", 5353, b"c"), udp("::1", 5353, b"d"),
      tcp("::1", 6432, b"e"), udp("::1", 6353, b"f"))
''')
                self.assertEqual(out, "True True True True True True")
                listed = [json.loads(l) for l in n.port("--json", "ls").stdout.splitlines()]
                self.assertEqual([s["spec"].get("direction") for s in listed], ["reverse"] * 4)
                tcp_stats = listed[0]["stats"]
                self.assertEqual(tcp_stats["connsAccepted"], 2)
                self.assertEqual(tcp_stats["bytesIn"], 100001)
                self.assertIn("<-", n.port("ls").stdout)
                # Removing closes the listener inside the namespace.
                n.port("rm", str(listed[0]["id"]))
                out = ns_python(n, r'''
import socket
try:
    socket.create_connection(("127.0.0.1", 5432), timeout=5); print("open")
except ConnectionRefusedError:
    print("refused")
''')
                self.assertEqual(out, "refused")
        finally:
            e4.close()
            e6.close()

    def test_reverse_range_larger_than_the_socket_pool(self):
        # 150 ports x 2 families: far more namespace sockets than one pool batch (64).
        e4 = HostEcho()
        try:
            with Npte(cmd=["sleep", "60"]) as n:
                first = e4.tport - 149
                st = json.loads(n.port("--json", "add", "--reverse", "tcp",
                                       "127.0.0.1:%d-%d:21000-21149" % (first, e4.tport)).stdout)
                self.assertEqual(st["spec"].get("portCount"), 150)
                st = json.loads(n.port("--json", "add", "--reverse", "udp",
                                       "127.0.0.1:%d-%d:22000-22099" % (e4.uport - 99, e4.uport))
                                .stdout)
                self.assertEqual(st["spec"].get("portCount"), 100)
                out = ns_python(n, CLIENT + r'''
print(tcp("127.0.0.1", 21149, b"last"), tcp("::1", 21149, b"six"), udp("127.0.0.1", 22099, b"u"))
''')
                self.assertEqual(out, "True True True")
        finally:
            e4.close()

    def test_reverse_auto_port_and_errors(self):
        e4 = HostEcho()
        try:
            with Npte(cmd=["sleep", "60"]) as n:
                st = json.loads(n.port("--json", "add", "--reverse", "tcp",
                                       "127.0.0.1:%d:0" % e4.tport).stdout)
                cport = st["spec"]["childPort"]
                self.assertGreater(cport, 0)
                out = ns_python(n, CLIENT + "print(tcp('127.0.0.1', %d, b'auto'))" % cport)
                self.assertEqual(out, "True")
                r = n.port("add", "--reverse", "tcp", "0.0.0.0:%d:7000" % e4.tport, check=False)
                self.assertEqual(r.returncode, 1)
                self.assertIn("wildcard", r.stderr)
                r = n.port("add", "--reverse", "tcp", "127.0.0.1:0:7000", check=False)
                self.assertEqual(r.returncode, 1)
                self.assertIn("ParentPort", r.stderr)
                r = n.port("add", "--reverse", "tcp", "127.0.0.1:1:%d" % cport, check=False)
                self.assertEqual(r.returncode, 1)
                self.assertIn("conflict with ID %d" % st["id"], r.stderr)
        finally:
            e4.close()

    def test_reverse_host_side_down_resets_client(self):
        port = free_port()
        with Npte(cmd=["sleep", "60"]) as n:
            n.port("add", "--reverse", "tcp", "127.0.0.1:%d:5000" % port)
            out = ns_python(n, r'''
import socket
try:
    s = socket.create_connection(("127.0.0.1", 5000), timeout=5); s.settimeout(5)
    print("eof" if s.recv(10) == b"" else "data")
except ConnectionResetError:
    print("reset")
''')
            self.assertIn(out, ("reset", "eof"))
            wait_for(lambda: json.loads(n.port("--json", "ls").stdout.splitlines()[0])["stats"]["errors"] >= 1, 5, "error counted")


if __name__ == "__main__":
    run_tests()
