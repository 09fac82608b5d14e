"""Busy polling (--busy-poll): traffic is right with it off, default and at the largest
window; it spins for request/response traffic and stops by itself, so an idle npte uses no
CPU; the slirp network spins too."""
import os
import re
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slirp_helpers import MIB, HostBulkServer, ns_run  # noqa: E402
from npte_test import (NPTE, Npte, free_port, run_tests, tcp_exchange, udp_exchange,  # noqa: E402
                       xor)

SUMMARY = re.compile(r"busy polling: (\d+) polls without sleeping, (\d+) hits, (\d+) misses, "
                     r"(\d+) pauses")


def ping_pong(port, rounds, size=64, timeout=20):
    """rounds small request/response exchanges on one connection; all replies checked."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(rounds):
            msg = (b"%08d" % i) * (size // 8)
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                d = s.recv(len(msg) - len(got))
                if not d:
                    raise AssertionError("connection closed after %d rounds" % i)
                got += d
            if got != xor(msg):
                raise AssertionError("round %d: wrong reply" % i)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BusyPoll(unittest.TestCase):
    def run_traffic(self, extra):
        tp, up = free_port(), free_port(socket.SOCK_DGRAM)
        with Npte(publish=["127.0.0.1:%d:80/tcp" % tp, "127.0.0.1:%d:53/udp" % up],
                  tcp=["127.0.0.1:80"], udp=["127.0.0.1:53"],
                  extra=["--debug"] + extra) as n:
            ping_pong(tp, 500)
            for i in range(50):
                data = os.urandom(100 + i)
                reply, _ = tcp_exchange("127.0.0.1", tp, data)
                self.assertEqual(reply, xor(data))
            data = os.urandom(4 << 20)
            reply, _ = tcp_exchange("127.0.0.1", tp, data, timeout=60)
            self.assertTrue(reply == xor(data), "bulk payload corrupted")
            for i in range(50):
                data = ("dgram %d" % i).encode()
                self.assertEqual(udp_exchange("127.0.0.1", up, data), xor(data))
            code, _, err = n.stop()
            self.assertEqual(code, 143, err)
            return SUMMARY.search(err), err

    def test_off_logs_nothing(self):
        summary, err = self.run_traffic(["--busy-poll=0"])
        self.assertIsNone(summary, err)

    def test_default_spins_for_request_response(self):
        summary, err = self.run_traffic([])
        self.assertIsNotNone(summary, err)
        polls, hits = int(summary.group(1)), int(summary.group(2))
        # 500 round trips on one connection: on a quiet machine most gaps are far below 200 us,
        # under load (a CI run beside other jobs, sanitizers) fewer; at least some are caught.
        self.assertGreater(polls, 0, err)
        self.assertGreater(hits, 0, err)

    def test_largest_window(self):
        # A 1 s window catches every gap of the 500 round trips, however slow the machine.
        summary, err = self.run_traffic(["--busy-poll=1000000"])
        self.assertIsNotNone(summary, err)
        self.assertGreater(int(summary.group(2)), 400, err)

    def test_environment_variable(self):
        # NPTE_BUSY_POLL applies where no --busy-poll is given (e.g. npte as slirp4netns).
        env = dict(os.environ, NPTE_BUSY_POLL="0")
        r = subprocess.run([NPTE, "run", "--debug", "--", "true"], env=env, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIsNone(SUMMARY.search(r.stderr), r.stderr)
        r = subprocess.run([NPTE, "run", "--debug", "--busy-poll=300", "--", "true"], env=env,
                           capture_output=True, text=True, timeout=30)
        self.assertIsNotNone(SUMMARY.search(r.stderr), r.stderr)  # the option wins
        for bad in ("lots", "-1", "1000001", ""):
            with self.subTest(value=bad):
                env = dict(os.environ, NPTE_BUSY_POLL=bad)
                r = subprocess.run([NPTE, "run", "--", "true"], env=env, capture_output=True,
                                   text=True, timeout=30)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn('invalid NPTE_BUSY_POLL "%s"' % bad, r.stderr)

    def test_idle_after_traffic_uses_no_cpu(self):
        tp = free_port()
        with Npte(publish=["127.0.0.1:%d:80/tcp" % tp], tcp=["127.0.0.1:80"],
                  extra=["--busy-poll=1000000"]) as n:
            ping_pong(tp, 300)
            # The last spin ends within its window (1 s here); then npte sleeps.
            time.sleep(1.5)
            before = cpu_seconds(n.proc.pid)
            time.sleep(1.0)
            used = cpu_seconds(n.proc.pid) - before
            self.assertLess(used, 0.1, "npte used %.2f s of CPU in 1 s while idle" % used)

    def test_slirp_bulk_does_not_spin(self):
        # 64 MiB each way through libslirp: bulk work must keep the loop from spinning.
        # (Counting frames instead of bytes let an upload at the default MTU spin, and it ran
        # at 0.9 instead of 8 Gbit/s.)
        n = 64 * MIB
        with HostBulkServer() as bulk:
            r, err = ns_run(["--debug"], """
R["up"] = bulk_send("10.0.2.2", %d, %d, 1)
R["down"] = bulk_recv("10.0.2.2", %d, %d, 2)
""" % (bulk.port, n, bulk.port, n), timeout=180)
            bulk.finished()
        self.assertEqual(r["up"]["reply"], r["up"]["expect"], "upload corrupted or short")
        self.assertEqual(r["down"], {"bytes": n, "equal": True})
        summary = SUMMARY.search(err)
        self.assertIsNotNone(summary, err)
        # Measured: about 3 000 polls (the few windows between the phases), and about 98 000
        # with the frame count; the bound sits between them with room either way.
        self.assertLess(int(summary.group(1)), 20000, err)

    def test_slirp_network_spins(self):
        tp = free_port()
        with Npte(publish=["127.0.0.1:%d:80/tcp" % tp], tcp=["0.0.0.0:80"],
                  extra=["--net=slirp", "--port-driver=slirp", "--debug",
                         "--busy-poll=1000000"]) as n:
            ping_pong(tp, 300)
            code, _, err = n.stop()
            self.assertEqual(code, 143, err)
        summary = SUMMARY.search(err)
        self.assertIsNotNone(summary, err)
        # The TAP frames and host socket events of 300 round trips, each found by a spin.
        self.assertGreater(int(summary.group(2)), 250, err)


if __name__ == "__main__":
    run_tests()
