"""Lifetime: kill -9 of child and parent, stale state dirs, locks, exit-fd."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import NPTE, Npte, free_port, run_tests, tcp_exchange, wait_for, xor  # noqa: E402


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): look at its state.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def payload_pid(n):
    """The pid of the payload: the only child of the namespace process."""
    cpid = n.child_pid()
    with open("/proc/%d/task/%d/children" % (cpid, cpid)) as f:
        kids = [int(x) for x in f.read().split()]
    assert len(kids) == 1, kids
    return kids[0]


class Lifecycle(unittest.TestCase):
    def test_kill_child(self):
        with Npte(cmd=["sleep", "60"]) as n:
            cpid = n.child_pid()
            ppid = payload_pid(n)
            os.kill(cpid, signal.SIGKILL)
            code, _, err = n.stop(sig=0)
            self.assertEqual(code, 1)
            self.assertEqual(err.count("killed by signal 9"), 1, err)
            wait_for(lambda: not alive(ppid), 5, "payload to die")
            self.assertFalse(os.path.exists(n.state_dir) and os.listdir(n.state_dir),
                             "state left behind")

    def test_kill_parent(self):
        n = Npte(cmd=["sleep", "60"])
        n.wait_ready()
        try:
            cpid = n.child_pid()
            ppid = payload_pid(n)
            n.proc.kill()
            n.proc.wait(10)
            wait_for(lambda: not alive(cpid) and not alive(ppid), 5, "child and payload to die")
        finally:
            n.__exit__(None, None, None)

    def test_stale_state_dir_reused(self):
        with tempfile.TemporaryDirectory() as d:
            sd = os.path.join(d, "st")
            n = Npte(cmd=["sleep", "60"], state_dir=sd)
            n.wait_ready()
            n.proc.kill()
            n.proc.wait(10)
            self.assertTrue(os.path.exists(os.path.join(sd, "api.sock")))  # stale
            port = free_port()
            with Npte(publish=["127.0.0.1:%d:80/tcp" % port], tcp=["127.0.0.1:80"],
                      state_dir=sd) as n2:
                reply, _ = tcp_exchange("127.0.0.1", port, b"again")
                self.assertEqual(reply, xor(b"again"))
                self.assertEqual(n2.port("ls").returncode, 0)
            n.__exit__(None, None, None)

    def test_second_instance_same_state_dir(self):
        with Npte(cmd=["sleep", "60"]) as n:
            r = subprocess.run([NPTE, "run", "--state-dir", n.state_dir, "--", "true"],
                               capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 1)
            self.assertIn("another npte", r.stderr)
            self.assertIn(n.state_dir, r.stderr)
            # The running one is unharmed.
            self.assertTrue(os.path.exists(n.api_sock))
            self.assertEqual(n.port("ls").returncode, 0)

    def test_exit_fd(self):
        r, w = os.pipe()
        rr, rw = os.pipe()
        p = subprocess.Popen([NPTE, "run", "--exit-fd", str(r), "--ready-fd", str(rw), "--",
                              "sleep", "60"], pass_fds=(r, rw), stderr=subprocess.PIPE)
        os.close(r)
        os.close(rw)
        self.assertEqual(os.read(rr, 1), b"1")
        os.close(w)  # HUP
        self.assertEqual(p.wait(15), 0)
        self.assertEqual(p.stderr.read(), b"")

    def test_busy_published_port_fails_startup(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        t0 = time.monotonic()
        r = subprocess.run([NPTE, "run", "-p", "127.0.0.1:%d:80/tcp" % port, "--", "sleep", "30"],
                           capture_output=True, text=True, timeout=20)
        s.close()
        self.assertEqual(r.returncode, 1)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertEqual(r.stderr.count("already in use"), 1, r.stderr)


if __name__ == "__main__":
    run_tests()
