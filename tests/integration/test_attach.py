"""npte attach: an existing namespace made by the test (unshare -r -n) gets networking and ports."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import (NPTE, NPTE_PORT, NSSERVER, PY, free_port, run_tests,  # noqa: E402
                       tcp_exchange, udp_exchange, wait_for, xor)


class Target:
    """A user+net namespace held by `unshare -r -n` running a payload server."""

    def __init__(self, tcp=(), udp=(), seconds=60):
        self.tmp = tempfile.mkdtemp(prefix="npte-attach-")
        self.ready = os.path.join(self.tmp, "ready")
        cmd = ["unshare", "-r", "-n", PY, NSSERVER, "--ready", self.ready,
               "--timeout", str(seconds)]
        for t in tcp:
            cmd += ["--tcp", t]
        for u in udp:
            cmd += ["--udp", u]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(self.ready), 20, "target namespace server")
        with open(self.ready) as f:
            self.pid = int(f.read())  # the server, inside the namespaces

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        subprocess.run(["rm", "-rf", self.tmp])


class Attach(unittest.TestCase):
    def start(self, target, *args):
        r, w = os.pipe()
        sd = os.path.join(target.tmp, "state")
        p = subprocess.Popen([NPTE, "attach", "--state-dir", sd, "--ready-fd", str(w)] +
                             list(args) + [str(target.pid)], pass_fds=(w,),
                             stderr=subprocess.PIPE, text=True)
        os.close(w)
        import select
        rl, _, _ = select.select([r], [], [], 20)
        self.assertTrue(rl, "npte attach not ready")
        self.assertEqual(os.read(r, 1), b"1")
        os.close(r)
        return p, sd

    def test_ports_and_exit_with_target(self):
        t = Target(tcp=["127.0.0.1:80"], udp=["127.0.0.1:53"])
        try:
            p4, u4 = free_port(), free_port()
            p, sd = self.start(t, "--net=none", "-p", "127.0.0.1:%d:80/tcp" % p4,
                               "-p", "127.0.0.1:%d:53/udp" % u4)
            reply, _ = tcp_exchange("127.0.0.1", p4, b"attached")
            self.assertEqual(reply, xor(b"attached"))
            self.assertEqual(udp_exchange("127.0.0.1", u4, b"dgram"), xor(b"dgram"))
            # Runtime ports through the API socket of the attached instance.
            p5 = free_port()
            r = subprocess.run([NPTE_PORT, "--state-dir", sd, "add", "tcp", "%d:80" % p5],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 0, r.stderr)
            reply, _ = tcp_exchange("127.0.0.1", p5, b"runtime")
            self.assertEqual(reply, xor(b"runtime"))
            # The target exits: npte attach exits cleanly by itself.
            t.proc.kill()
            t.proc.wait(10)
            self.assertEqual(p.wait(15), 0)
            self.assertEqual(p.stderr.read(), "")
            self.assertFalse(os.path.exists(os.path.join(sd, "api.sock")))
        finally:
            t.close()

    def test_slirp_tap_configured_and_sigterm(self):
        t = Target(tcp=["0.0.0.0:80"])
        try:
            port = free_port()
            p, sd = self.start(t, "--disable-host-loopback", "--port-driver=slirp",
                               "-p", "127.0.0.1:%d:80/tcp" % port)
            with open("/proc/%d/net/route" % t.pid) as f:
                routes = f.read()
            self.assertIn("tap0\t00000000\t0202000A", routes)  # default via 10.0.2.2
            reply, peer = tcp_exchange("127.0.0.1", port, b"via slirp")
            self.assertEqual(reply, xor(b"via slirp"))
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(15), 0)
            self.assertEqual(t.proc.poll(), None, "the target must survive a detach")
        finally:
            t.close()

    def test_bad_targets(self):
        cases = [
            ([], "expected one PID"),
            (["999999999"], "no process 999999999"),
            (["/nonexistent/netns"], "neither a PID"),
            (["1", "2"], "expected one PID"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                r = subprocess.run([NPTE, "attach"] + args, capture_output=True, text=True,
                                   timeout=20)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(needle, r.stderr)

    def test_target_not_ours(self):
        if os.getuid() == 0:
            # Root may join any namespace; use a process that exits at once instead.
            pr = subprocess.Popen(["true"])
            pr.wait()
            r = subprocess.run([NPTE, "attach", "--net=none", str(pr.pid)], capture_output=True,
                               text=True, timeout=20)
            self.assertNotEqual(r.returncode, 0)
            return
        # pid 1 belongs to root: joining its namespaces is refused with one clear error.
        r = subprocess.run([NPTE, "attach", "--net=none", "1"], capture_output=True, text=True,
                           timeout=20)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(r.stderr.count("error:"), 1, r.stderr)
        self.assertIn("namespace", r.stderr)


if __name__ == "__main__":
    run_tests()
