"""Servers in the namespace see the real client address (builtin driver), TCP and UDP."""
import os
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import Npte, free_port, run_tests, xor  # noqa: E402

TEST_V4 = "192.0.2.77"        # TEST-NET-1, added to the host's lo by the root-only cases
TEST_V6 = "2001:db8::77"      # documentation prefix, likewise


def tcp_peer(src, dst, port, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.bind((src, 0))
    s.connect((dst, port))
    line = b""
    while not line.endswith(b"\n"):
        ch = s.recv(1)
        if not ch:
            break
        line += ch
    s.sendall(b"ping")
    s.shutdown(socket.SHUT_WR)
    rest = b""
    while True:
        d = s.recv(100)
        if not d:
            break
        rest += d
    local = s.getsockname()
    s.close()
    return line.decode().split(), local, rest


def udp_peer(src, dst, port, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.bind((src, 0))
    for _ in range(5):
        s.sendto(b"ping", (dst, port))
        try:
            data = s.recv(200)
            break
        except socket.timeout:
            continue
    else:
        raise AssertionError("no UDP reply for a client at %s" % src)
    local = s.getsockname()
    s.close()
    line, _, rest = data.partition(b"\n")
    return line.decode().split(), local, rest


class SourceAddress(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t4, cls.u4 = free_port(), free_port(socket.SOCK_DGRAM)
        cls.t6 = free_port(family=socket.AF_INET6)
        cls.u6 = free_port(socket.SOCK_DGRAM, socket.AF_INET6)
        cls.n = Npte(publish=["%d:80/tcp" % cls.t4, "%d:53/udp" % cls.u4,
                              "[::]:%d:80/tcp6" % cls.t6, "[::]:%d:53/udp6" % cls.u6],
                     tcp=["127.0.0.1:80", "[::1]:80"], udp=["127.0.0.1:53", "[::1]:53"],
                     report_peer=True, report_peer_udp=True, timeout=120)
        cls.n.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.n.__exit__(None, None, None)

    def check_tcp(self, src, dst, port, family=socket.AF_INET):
        peer, local, rest = tcp_peer(src, dst, port, family)
        self.assertEqual(peer, ["PEER", local[0], str(local[1])])
        self.assertEqual(rest, xor(b"ping"))

    def check_udp(self, src, dst, port, family=socket.AF_INET):
        peer, local, rest = udp_peer(src, dst, port, family)
        self.assertEqual(peer, ["PEER", local[0], str(local[1])])
        self.assertEqual(rest, xor(b"ping"))

    def test_loopback_alias_client_tcp(self):
        self.check_tcp("127.0.0.5", "127.0.0.1", self.t4)

    def test_loopback_alias_client_udp(self):
        self.check_udp("127.0.0.6", "127.0.0.1", self.u4)

    def test_many_clients_each_seen(self):
        for i in range(2, 30):
            self.check_tcp("127.0.1.%d" % i, "127.0.0.1", self.t4)
            self.check_udp("127.0.2.%d" % i, "127.0.0.1", self.u4)

    def test_non_loopback_clients(self):
        if os.getuid() != 0:
            # An unprivileged user cannot add an address to the host; the same code path
            # (IP_TRANSPARENT for a non-loopback client) is then covered by the root run.
            self.assertTrue(True)
            return
        subprocess.run(["ip", "addr", "add", TEST_V4 + "/32", "dev", "lo"], check=True)
        subprocess.run(["ip", "-6", "addr", "add", TEST_V6 + "/128", "dev", "lo", "nodad"],
                       check=True)
        try:
            self.check_tcp(TEST_V4, "127.0.0.1", self.t4)
            self.check_udp(TEST_V4, "127.0.0.1", self.u4)
            self.check_tcp(TEST_V6, "::1", self.t6, socket.AF_INET6)
            self.check_udp(TEST_V6, "::1", self.u6, socket.AF_INET6)
        finally:
            subprocess.run(["ip", "addr", "del", TEST_V4 + "/32", "dev", "lo"])
            subprocess.run(["ip", "-6", "addr", "del", TEST_V6 + "/128", "dev", "lo"])

    def test_loopback_mode(self):
        port = free_port()
        with Npte(publish=["%d:80/tcp" % port], tcp=["127.0.0.1:80"], report_peer=True,
                  extra=["--source-address=loopback"]) as n:
            peer, local, rest = tcp_peer("127.0.0.5", "127.0.0.1", port)
            self.assertEqual(peer[1], "127.0.0.1")
            self.assertEqual(rest, xor(b"ping"))


if __name__ == "__main__":
    run_tests()
