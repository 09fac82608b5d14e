"""Builtin port driver: real traffic over loopback into a real namespace."""
import concurrent.futures
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import (Npte, free_port, run_tests, tcp_exchange, udp_exchange,  # noqa: E402
                       wait_for, xor)


class BuiltinPorts(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.p4 = free_port()
        cls.p6 = free_port(family=socket.AF_INET6)
        cls.u4 = free_port(socket.SOCK_DGRAM)
        cls.u6 = free_port(socket.SOCK_DGRAM, socket.AF_INET6)
        cls.n = Npte(publish=["127.0.0.1:%d:80/tcp" % cls.p4,
                              "[::1]:%d:80/tcp6" % cls.p6,
                              "127.0.0.1:%d:53/udp" % cls.u4,
                              "[::1]:%d:53/udp6" % cls.u6],
                     tcp=["127.0.0.1:80", "[::1]:80", "127.0.0.2:81", "127.0.0.1:82"],
                     udp=["127.0.0.1:53", "[::1]:53"], timeout=240)
        cls.n.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.n.__exit__(None, None, None)

    def test_tcp4_both_directions(self):
        data = os.urandom(100000)
        reply, _ = tcp_exchange("127.0.0.1", self.p4, data)
        self.assertEqual(reply, xor(data))

    def test_tcp6_both_directions(self):
        data = os.urandom(100000)
        reply, _ = tcp_exchange("::1", self.p6, data)
        self.assertEqual(reply, xor(data))

    def test_udp4_both_directions(self):
        data = os.urandom(1200)
        self.assertEqual(udp_exchange("127.0.0.1", self.u4, data), xor(data))

    def test_udp6_both_directions(self):
        data = os.urandom(1200)
        self.assertEqual(udp_exchange("::1", self.u6, data), xor(data))

    def test_udp_many_clients(self):
        for i in range(50):
            data = ("client %d" % i).encode()
            self.assertEqual(udp_exchange("127.0.0.1", self.u4, data), xor(data))

    def test_large_transfer_byte_for_byte(self):
        data = os.urandom(32 * 1024 * 1024)
        reply, _ = tcp_exchange("127.0.0.1", self.p4, data, timeout=60)
        self.assertEqual(len(reply), len(data))
        self.assertTrue(reply == xor(data), "payload corrupted")

    def test_200_concurrent_connections(self):
        def one(i):
            data = ("conn-%d-" % i).encode() * 1000
            reply, _ = tcp_exchange("127.0.0.1", self.p4, data, timeout=60)
            return reply == xor(data)
        with concurrent.futures.ThreadPoolExecutor(max_workers=200) as ex:
            results = list(ex.map(one, range(200)))
        self.assertEqual(results.count(True), 200)

    def test_add_remove_readd(self):
        port = free_port()
        out = self.n.port("add", "tcp", "127.0.0.1:%d:82" % port).stdout.split()
        self.assertEqual(len(out), 1)
        pid = out[0]
        reply, _ = tcp_exchange("127.0.0.1", port, b"abc")
        self.assertEqual(reply, xor(b"abc"))
        self.assertEqual(self.n.port("rm", pid).stdout.split(), [pid])
        # Removed: the port is closed at once.
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=5)
        # Re-add right away succeeds, with a new id.
        out2 = self.n.port("add", "127.0.0.1:%d:82/tcp" % port).stdout.split()
        self.assertGreater(int(out2[0]), int(pid))
        reply, _ = tcp_exchange("127.0.0.1", port, b"xyz")
        self.assertEqual(reply, xor(b"xyz"))
        self.n.port("rm", out2[0])

    def test_auto_port(self):
        import json
        st = json.loads(self.n.port("--json", "add", "127.0.0.1:0:82/tcp").stdout)
        port = st["spec"]["parentPort"]
        self.assertGreater(port, 0)
        listed = [json.loads(l) for l in self.n.port("--json", "ls").stdout.splitlines()]
        self.assertIn(port, [s["spec"]["parentPort"] for s in listed if s["id"] == st["id"]])
        reply, _ = tcp_exchange("127.0.0.1", port, b"auto")
        self.assertEqual(reply, xor(b"auto"))
        self.n.port("rm", str(st["id"]))

    def test_parent_ip_dialled_in_namespace(self):
        # -p 127.0.0.2:P:81 must reach the server bound to 127.0.0.2:81 inside.
        port = free_port()
        pid = self.n.port("add", "127.0.0.2:%d:81/tcp" % port).stdout.split()[0]
        reply, _ = tcp_exchange("127.0.0.2", port, b"ip2")
        self.assertEqual(reply, xor(b"ip2"))
        self.n.port("rm", pid)

    def test_child_ip_given(self):
        port = free_port()
        pid = self.n.port("add", "127.0.0.1:%d:127.0.0.2:81/tcp" % port).stdout.split()[0]
        reply, _ = tcp_exchange("127.0.0.1", port, b"cip")
        self.assertEqual(reply, xor(b"cip"))
        self.n.port("rm", pid)

    def test_counters(self):
        import json
        tcp_exchange("127.0.0.1", self.p4, b"count me")

        def stats():
            for l in self.n.port("--json", "ls").stdout.splitlines():
                s = json.loads(l)
                if s["spec"]["parentPort"] == self.p4:
                    return s["stats"]
        st = wait_for(lambda: (lambda s: s if s["bytesOut"] >= 8 else None)(stats()), 5, "stats")
        self.assertGreaterEqual(st["connsAccepted"], 1)
        self.assertGreaterEqual(st["bytesIn"], 8)

    def test_no_server_in_namespace_resets_client(self):
        port = free_port()
        pid = self.n.port("add", "127.0.0.1:%d:9/tcp" % port).stdout.split()[0]
        # The client sees the refusal inside as a reset (or EOF), never a hang.
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.settimeout(5)
            with s:
                self.assertEqual(s.recv(10), b"")
        except ConnectionResetError:
            pass
        self.n.port("rm", pid)

    def test_conflict_and_busy_port(self):
        r = self.n.port("add", "127.0.0.1:%d:80/tcp" % self.p4, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("conflict with ID", r.stderr)
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        r = self.n.port("add", "127.0.0.1:%d:80/tcp" % busy.getsockname()[1], check=False)
        busy.close()
        self.assertEqual(r.returncode, 1)
        self.assertIn("already in use", r.stderr)


if __name__ == "__main__":
    run_tests()
