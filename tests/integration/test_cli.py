"""npte-port: commands, output formats, socket discovery, argument errors."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import NPTE_PORT, Npte, free_port, run_tests, tcp_exchange, xor  # noqa: E402


def nport(args, env=None, timeout=20):
    return subprocess.run([NPTE_PORT] + args, capture_output=True, text=True, timeout=timeout,
                          env=env)


class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.n = Npte(tcp=["127.0.0.1:80"], timeout=240)
        cls.n.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.n.__exit__(None, None, None)

    def ids(self):
        return [json.loads(l)["id"] for l in self.n.port("--json", "ls").stdout.splitlines()]

    def test_add_ls_rm_table(self):
        port = free_port()
        r = self.n.port("add", "tcp", "127.0.0.1:%d:80" % port)
        pid = r.stdout.strip()
        self.assertRegex(pid, r"^\d+$")
        out = self.n.port("ls").stdout.splitlines()
        self.assertEqual(out[0].split()[:6],
                         ["ID", "PROTO", "PARENTIP", "PARENTPORT", "CHILDIP", "CHILDPORT"])
        self.assertIn("CONNS", out[0])
        row = [l.split() for l in out[1:] if l.split()[0] == pid]
        self.assertEqual(len(row), 1, out)
        self.assertEqual(row[0][1:4], ["tcp", "127.0.0.1", str(port)])
        self.assertEqual(self.n.port("rm", pid).stdout.split(), [pid])
        self.assertNotIn(int(pid), self.ids())

    def test_json_outputs(self):
        port = free_port()
        st = json.loads(self.n.port("--json", "add", "127.0.0.1:%d:80/tcp" % port).stdout)
        self.assertEqual(set(st), {"id", "spec", "stats"})
        for line in self.n.port("--json", "ls").stdout.splitlines():
            self.assertIn("spec", json.loads(line))
        info = json.loads(self.n.port("--json", "info").stdout)
        self.assertEqual(info["portDriver"]["driver"], "builtin")
        self.n.port("rm", str(st["id"]))

    def test_info_human(self):
        out = self.n.port("info").stdout
        self.assertIn("- REST API version: 1.1.1", out)
        self.assertIn("- State Directory: " + self.n.state_dir, out)
        self.assertIn("- Port Driver: builtin", out)

    def test_rootlessctl_aliases(self):
        port = free_port()
        pid = self.n.port("add-ports", "127.0.0.1:%d:80/tcp" % port).stdout.strip()
        self.assertIn(str(port), self.n.port("list-ports").stdout)
        self.n.port("remove-ports", pid)

    def test_add_checks_all_specs_first(self):
        before = self.ids()
        p1 = free_port()
        r = self.n.port("add", "127.0.0.1:%d:80/tcp" % p1, "127.0.0.1:99999:80/tcp", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("99999", r.stderr)
        self.assertEqual(self.ids(), before)

    def test_bad_arguments(self):
        cases = [
            (["add"], 2),
            (["add", "bad"], 1),
            (["add", "8080"], 1),
            (["add", "tcp"], 1),
            (["add", "tcp", "8080"], 1),
            (["add", "tcp", "a:b"], 1),
            (["add", "127.0.0.1:8080:80/xyz"], 1),
            (["add", "a/tcp,b/tcp"], 1),
            (["rm"], 2),
            (["rm", "abc"], 1),
            (["rm", "999999"], 1),
            (["frob"], 2),
            (["--bogus", "ls"], 2),
        ]
        for args, code in cases:
            with self.subTest(args=args):
                r = self.n.port(*args, check=False)
                self.assertEqual(r.returncode, code, r.stderr)
                self.assertTrue(r.stderr.strip(), "no error message")
                self.assertEqual(r.stdout, "")

    def test_discovery(self):
        env = dict(os.environ)
        env["NPTE_STATE_DIR"] = self.n.state_dir
        r = nport(["ls"], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = nport(["--socket", self.n.api_sock, "ls"])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = nport(["--socket", "/nonexistent/api.sock", "ls"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent/api.sock", r.stderr)

    def test_discovery_of_default_instances(self):
        with tempfile.TemporaryDirectory() as xdg:
            os.chmod(xdg, 0o700)
            env = dict(os.environ)
            env.pop("NPTE_STATE_DIR", None)
            env["XDG_RUNTIME_DIR"] = xdg
            r = nport(["ls"], env=env)
            self.assertEqual(r.returncode, 1)
            self.assertIn("no running npte", r.stderr)
            port = free_port()
            a = subprocess.Popen([os.environ["NPTE"], "run", "-p", "127.0.0.1:%d:80/tcp" % port,
                                  "--", "sleep", "60"], env=env, stderr=subprocess.PIPE)
            try:
                import time
                for _ in range(100):
                    r = nport(["ls"], env=env)
                    if r.returncode == 0:
                        break
                    time.sleep(0.1)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(str(port), r.stdout)
                b = subprocess.Popen([os.environ["NPTE"], "run", "--", "sleep", "60"], env=env,
                                     stderr=subprocess.PIPE)
                try:
                    for _ in range(100):
                        r = nport(["ls"], env=env)
                        if "several" in r.stderr:
                            break
                        time.sleep(0.1)
                    self.assertEqual(r.returncode, 1)
                    self.assertIn("several npte instances", r.stderr)
                finally:
                    b.kill()
                    b.wait()
            finally:
                a.kill()
                a.wait()


if __name__ == "__main__":
    run_tests()
