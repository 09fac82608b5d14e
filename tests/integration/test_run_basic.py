"""npte run: namespaces, exit codes, readiness, environment, option errors."""
import os
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import NPTE, PY, Npte, run_tests, wait_for  # noqa: E402


def run(args, timeout=30, **kw):
    return subprocess.run([NPTE] + args, capture_output=True, text=True, timeout=timeout, **kw)


class RunBasic(unittest.TestCase):
    def test_exit_code_zero(self):
        r = run(["run", "--", "true"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")

    def test_exit_code_passthrough(self):
        r = run(["run", "--", "sh", "-c", "exit 42"])
        self.assertEqual(r.returncode, 42, r.stderr)

    def test_exit_code_signal(self):
        r = run(["run", "--", "sh", "-c", "kill -USR1 $$"])
        self.assertEqual(r.returncode, 128 + signal.SIGUSR1, r.stderr)

    def test_in_new_namespaces_as_root(self):
        code = ("import os; print(os.getuid(), os.getgid(), "
                "os.readlink('/proc/self/ns/net'), os.readlink('/proc/self/ns/user'))")
        r = run(["run", "--", PY, "-c", code])
        self.assertEqual(r.returncode, 0, r.stderr)
        uid, gid, netns, userns = r.stdout.split()
        self.assertEqual((uid, gid), ("0", "0"))
        self.assertNotEqual(netns, os.readlink("/proc/self/ns/net"))
        self.assertNotEqual(userns, os.readlink("/proc/self/ns/user"))

    def test_loopback_up_and_isolated(self):
        # Inside: lo is up (a listener on 127.0.0.1 is reachable); no other link.
        code = ("import socket,os\n"
                "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(1)\n"
                "c=socket.create_connection(s.getsockname(), timeout=5); print('lo-ok')\n"
                "print(sorted(os.listdir('/sys/class/net')))\n")
        r = run(["run", "--", PY, "-c", code])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("lo-ok", r.stdout)
        self.assertIn("['lo']", r.stdout)

    def test_state_dir_env(self):
        with tempfile.TemporaryDirectory() as d:
            sd = os.path.join(d, "st")
            r = run(["run", "--state-dir", sd, "--", "sh", "-c",
                     "echo $NPTE_STATE_DIR; ls $NPTE_STATE_DIR"])
            self.assertEqual(r.returncode, 0, r.stderr)
            lines = r.stdout.split()
            why = "stdout=%r stderr=%r" % (r.stdout, r.stderr)
            self.assertEqual(lines[0], sd, why)
            self.assertIn("api.sock", lines, why)
            self.assertIn("child_pid", lines, why)
            self.assertIn("lock", lines, why)
            # Nothing left behind; the dir we were given stays (it was created for us: removed).
            self.assertFalse(os.path.exists(sd) and os.listdir(sd))

    def test_default_state_dir_cleaned(self):
        r = run(["run", "--", "sh", "-c", "echo $NPTE_STATE_DIR"])
        self.assertEqual(r.returncode, 0, r.stderr)
        sd = r.stdout.strip()
        self.assertTrue(sd.startswith("/"), sd)
        self.assertFalse(os.path.exists(sd), "default state dir left behind: " + sd)

    def test_ready_fd(self):
        with Npte(cmd=["sleep", "30"]) as n:
            self.assertTrue(os.path.exists(n.api_sock))
            self.assertGreater(n.child_pid(), 1)
            code, _, _ = n.stop()
            self.assertEqual(code, 128 + signal.SIGTERM)

    def test_command_not_found(self):
        r = run(["run", "--", "/nonexistent/npte-no-such-cmd"])
        self.assertEqual(r.returncode, 127)
        self.assertEqual(r.stderr.count("npte-no-such-cmd"), 1, r.stderr)
        self.assertIn("No such file", r.stderr)

    def test_stdio_passthrough(self):
        r = run(["run", "--", "cat"], input="hello through npte\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "hello through npte\n")

    def test_version_and_help(self):
        r = run(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^npte version \d+\.\d+\.\d+")
        r = run(["run", "--help"])
        self.assertEqual(r.returncode, 0)
        self.assertIn("--publish", r.stdout)

    def test_bad_options(self):
        cases = [
            (["run"], "missing command"),
            (["run", "--net", "bogus", "--", "true"], "unknown --net"),
            (["run", "--port-driver", "bogus", "--", "true"], "unknown --port-driver"),
            (["run", "-p", "bad", "--", "true"], "invalid --publish"),
            (["run", "-p", "127.0.0.1:70000:80/tcp", "--", "true"], "ParentPort"),
            (["run", "-p", "8080:80/sctp9", "--", "true"], "proto"),
            (["run", "--ready-fd", "abc", "--", "true"], "invalid --ready-fd"),
            (["run", "--ready-fd", "999", "--", "true"], "invalid --ready-fd"),
            (["run", "--state-dir", "", "--", "true"], "state-dir"),
            (["run", "--port-driver", "none", "-p", "8080:80/tcp", "--", "true"], "port driver"),
            (["run", "--busy-poll", "abc", "--", "true"], "invalid --busy-poll"),
            (["run", "--busy-poll", "-1", "--", "true"], "invalid --busy-poll"),
            (["run", "--busy-poll", "1000001", "--", "true"], "invalid --busy-poll"),
            (["run", "--busy-poll", "", "--", "true"], "invalid --busy-poll"),
            (["run", "--busy-poll", "1e3", "--", "true"], "invalid --busy-poll"),
            (["run", "--bogus", "--", "true"], "unrecognized option"),
            (["frobnicate"], "unknown command"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                r = run(args)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(needle, r.stderr)

    def test_signal_forwarded(self):
        with tempfile.TemporaryDirectory() as d:
            mark = os.path.join(d, "trapped")
            script = "trap 'exit 7' USR2; touch %s; while :; do sleep 0.05; done" % mark
            with Npte(cmd=["sh", "-c", script]) as n:
                wait_for(lambda: os.path.exists(mark), 10, "payload trap")
                code, _, err = n.stop(sig=signal.SIGUSR2)
                self.assertEqual(code, 7, err)


if __name__ == "__main__":
    run_tests()
