"""npte netns: managed named network namespaces, rootless and as root.

Every test gets a registry of its own: XDG_RUNTIME_DIR points at a fresh
0700 directory (rootless) or NPTE_NETNS_RUN_DIR does (root, instead of
/run/npte). Namespace names carry a random per-run prefix, because as root
they also appear in /run/netns. Every namespace a test makes is destroyed
at tear-down, every process it starts is killed, every wait is bounded.
Traffic flows only between namespaces the test made, or over loopback.
"""
import fcntl
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import (NPTE, NPTE_PORT, NSSERVER, PY, free_port, run_tests,  # noqa: E402
                       tcp_exchange, wait_for, xor)

ROOT = os.geteuid() == 0
RUN = "%04x" % random.randrange(0x10000)

# Connects to HOST PORT, sends PAYLOAD, half-closes, prints the reply in hex.
CLIENT = r"""
import socket, sys
host, port, data = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.settimeout(10)
s.connect((host, port))
s.sendall(data)
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
print(out.hex())
"""


class Registry:
    """One private registry: environment, paths and helpers around the binaries."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="npte-nsit-")
        os.chmod(self.tmp, 0o700)
        self.env = dict(os.environ)
        self.env.pop("NPTE_NETNS_RUN_DIR", None)
        self.env.pop("NPTE_STATE_DIR", None)
        if ROOT:
            self.base = os.path.join(self.tmp, "run")
            self.env["NPTE_NETNS_RUN_DIR"] = self.base
        else:
            self.env["XDG_RUNTIME_DIR"] = self.tmp
            self.base = os.path.join(self.tmp, "npte")
        self.reg = os.path.join(self.base, "netns")
        self.procs = []

    def name(self, suffix):
        return "t%s-%s" % (RUN, suffix)

    def npte(self, *args, timeout=60, check=False, input=None):
        r = subprocess.run([NPTE, "netns"] + [str(a) for a in args], env=self.env,
                           capture_output=True, text=True, timeout=timeout, input=input)
        if "GLib" in r.stderr or "CRITICAL" in r.stderr or "Sanitizer" in r.stderr:
            raise AssertionError("npte netns %s: %s" % (args, r.stderr))
        if check and r.returncode != 0:
            raise AssertionError("npte netns %s: exit %d: %s" % (args, r.returncode, r.stderr))
        return r

    def ok(self, *args, **kw):
        return self.npte(*args, check=True, **kw)

    def port(self, *args, timeout=30):
        return subprocess.run([NPTE_PORT] + [str(a) for a in args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def sh(self, script, timeout=120):
        return subprocess.run(["sh"], input=script, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def keeper(self):
        """The keeper's pid (rootless), or 0."""
        r = subprocess.run([NPTE, "__netns-keeper", "--find"], env=self.env, capture_output=True,
                           text=True, timeout=20)
        return int(r.stdout) if r.returncode == 0 else 0

    def listing(self):
        r = self.ok("list", "--json")
        return {e["name"]: e["state"] for e in json.loads(r.stdout)}

    def kernel_names(self):
        """Names of the namespace bindings the kernel holds for this registry."""
        if ROOT:
            return {n for n in os.listdir("/run/netns") if n.startswith("t%s-" % RUN)} \
                if os.path.isdir("/run/netns") else set()
        k = self.keeper()
        if k == 0:
            return set()
        return set(os.listdir("/proc/%d/root%s/netns-keeper" % (k, self.base)))

    def show(self, name):
        return json.loads(self.ok("show", name, "--json").stdout)

    def snapshot(self):
        """Everything that could change: the registry files, the list, the kernel side."""
        files = []
        for d, dirs, fs in os.walk(self.base):
            for x in dirs + fs:
                p = os.path.join(d, x)
                files.append((p, os.path.islink(p), os.path.isdir(p)))
        return sorted(files), sorted(self.kernel_names()), self.keeper()

    def spawn(self, name, *cmd):
        """npte netns exec NAME CMD in the background."""
        p = subprocess.Popen([NPTE, "netns", "exec", name] + [str(c) for c in cmd], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(p)
        return p

    def server(self, name, *addrs, timeout=60):
        ready = os.path.join(self.tmp, "ready-%d" % len(self.procs))
        args = [PY, NSSERVER, "--ready", ready, "--timeout", timeout]
        for a in addrs:
            args += ["--tcp", a]
        p = self.spawn(name, *args)
        wait_for(lambda: os.path.exists(ready) or p.poll() is not None, 20, "server in " + name)
        if p.poll() is not None:
            raise AssertionError("server in %s died: %s" % (name, p.stderr.read()))
        return p

    def client(self, name, host, port, payload):
        r = self.npte("exec", name, PY, "-c", CLIENT, host, port, payload, timeout=30)
        if r.returncode != 0:
            raise AssertionError("client in %s: %s" % (name, r.stderr))
        return bytes.fromhex(r.stdout.strip())

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            try:
                p.communicate(timeout=10)
            except Exception:
                pass
        if os.path.isdir(self.reg):
            for n in sorted(os.listdir(self.reg)):
                p = os.path.join(self.reg, n)
                if "." not in n and (os.path.islink(p) or os.path.isdir(p)):
                    os.unlink(p) if os.path.islink(p) else os.rmdir(p)
            for n in self.listing():
                self.npte("destroy", n)
        assert self.listing() == {}, "namespaces left behind"
        assert self.kernel_names() == set(), "kernel namespaces left behind"
        assert self.keeper() == 0, "keeper left behind"
        shutil.rmtree(self.tmp, ignore_errors=True)


class NetnsTest(unittest.TestCase):
    def setUp(self):
        self.r = Registry()

    def tearDown(self):
        self.r.close()

    def assertExit(self, res, code, needle=None):
        self.assertEqual(res.returncode, code, "exit %d, stderr: %s" % (res.returncode, res.stderr))
        if needle is not None:
            self.assertIn(needle, res.stderr)


class Lifecycle(NetnsTest):
    def test_create_list_exec_show_destroy(self):
        r = self.r
        a = r.name("life")
        self.assertExit(r.npte("create", a), 0)
        self.assertEqual(r.listing(), {a: "active"})
        self.assertEqual(r.ok("list").stdout, a + "\n")
        self.assertEqual(r.kernel_names(), {a})
        self.assertTrue(os.path.isfile(os.path.join(r.reg, a)))
        self.assertEqual(os.path.getsize(os.path.join(r.reg, a)), 0)
        if ROOT:
            self.assertIn(a, subprocess.run(["ip", "netns", "list"], capture_output=True,
                                            text=True, timeout=10).stdout)
        else:
            self.assertGreater(r.keeper(), 0)
        # A second create of the same name fails and changes nothing.
        self.assertExit(r.npte("create", a), 1, "exists already")
        # exec: only lo, up; exit statuses pass through; the environment and cwd stay.
        out = r.ok("exec", a, "cat", "/proc/net/dev").stdout
        self.assertEqual([l.split(":")[0].strip() for l in out.splitlines()[2:]], ["lo"])
        self.assertExit(r.npte("exec", a, "--", "sh", "-c", "exit 7"), 7)
        self.assertExit(r.npte("exec", a, "sh", "-c", "kill -TERM $$"), 128 + signal.SIGTERM)
        self.assertExit(r.npte("exec", a, "/nonexistent/cmd"), 127, "cannot run")
        self.assertEqual(r.ok("exec", a, "sh", "-c", "echo $NPTE_NETNS").stdout, a + "\n")
        self.assertEqual(r.ok("exec", a, "pwd").stdout.strip(), os.getcwd())
        self.assertEqual(r.ok("exec", a, "id", "-u").stdout.strip(), "0")
        show = r.show(a)
        lo = [l for l in show["links"] if l["name"] == "lo"][0]
        self.assertTrue(lo["up"])
        self.assertIn({"dev": "lo", "family": "inet", "address": "127.0.0.1", "prefix": 8,
                       "scope": "host"}, show["addresses"])
        self.assertIn("links:\n", r.ok("show", a).stdout)
        self.assertExit(r.npte("destroy", a), 0)
        self.assertEqual(r.listing(), {})
        self.assertEqual(r.kernel_names(), set())
        self.assertEqual(r.keeper(), 0)
        self.assertEqual(sorted(os.listdir(r.reg)), [])
        self.assertExit(r.npte("destroy", a), 2, "not managed by npte")

    def test_registry_location(self):
        r = self.r
        n = r.name("where")
        if ROOT:
            # Without NPTE_NETNS_RUN_DIR root's registry is /run/npte; the dry run shows it
            # without touching it.
            env = dict(r.env)
            env.pop("NPTE_NETNS_RUN_DIR")
            res = subprocess.run([NPTE, "netns", "create", n, "--dry-run"], env=env,
                                 capture_output=True, text=True, timeout=20)
            self.assertExit(res, 0)
            self.assertIn('(set -C && : > "/run/npte/netns/%s")' % n, res.stdout)
            self.assertIn("ip netns add %s\n" % n, res.stdout)
            return
        # Rootless without XDG_RUNTIME_DIR: $TMPDIR/npte-UID, as npte run's state dirs.
        tmpdir = os.path.join(r.tmp, "tmpdir")
        os.mkdir(tmpdir, 0o700)
        env = dict(r.env, TMPDIR=tmpdir)
        env.pop("XDG_RUNTIME_DIR")
        base = os.path.join(tmpdir, "npte-%d" % os.getuid())
        for args in (("create", n), ("list",), ("destroy", n)):
            res = subprocess.run([NPTE, "netns"] + list(args), env=env, capture_output=True,
                                 text=True, timeout=60)
            self.assertExit(res, 0)
            if args[0] == "create":
                self.assertTrue(os.path.isfile(os.path.join(base, "netns", n)))
            if args[0] == "list":
                self.assertEqual(res.stdout, n + "\n")
        self.assertEqual(os.listdir(os.path.join(base, "netns")), [])
        res = subprocess.run([NPTE, "__netns-keeper", "--find"], env=env, capture_output=True,
                             text=True, timeout=20)
        self.assertExit(res, 1, "not running")
        self.assertEqual(r.listing(), {})

    def test_slirp_outbound(self):
        r = self.r
        s = r.name("slirp")
        r.ok("create", s, "--net=slirp")
        show = r.show(s)
        self.assertIn("tap0", [l["name"] for l in show["links"]])
        self.assertIn({"dev": "tap0", "family": "inet", "address": "10.0.2.100", "prefix": 24,
                       "scope": "universe"}, show["addresses"])
        self.assertTrue(any(x["dst"] == "default" and x["gateway"] == "10.0.2.2"
                            for x in show["routes"]))
        self.assertIn("nameserver 10.0.2.3", r.ok("exec", s, "cat", "/etc/resolv.conf").stdout)
        # Outbound through slirp to a server on the host's loopback (10.0.2.2 is the host).
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        port = lsock.getsockname()[1]

        def serve():
            lsock.settimeout(20)
            try:
                c, _ = lsock.accept()
                c.settimeout(10)
                data = b""
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    data += d
                c.sendall(xor(data))
                c.close()
            except OSError:
                pass
        t = threading.Thread(target=serve)
        t.start()
        try:
            self.assertEqual(r.client(s, "10.0.2.2", port, "outbound"), xor(b"outbound"))
        finally:
            t.join(25)
            lsock.close()


class Veth(NetnsTest):
    def pair(self):
        r = self.r
        a, b = r.name("a"), r.name("b")
        r.ok("create", a)
        r.ok("create", b)
        r.ok("link", "add", a, "va", "type", "veth", "peer", "vb", "netns", b)
        r.ok("addr", "add", a, "va", "10.77.0.1/24")
        r.ok("addr", "add", b, "vb", "10.77.0.2/24")
        r.ok("addr", "add", a, "va", "fd77::1/64")
        r.ok("addr", "add", b, "vb", "fd77::2/64")
        r.ok("link", "set", a, "va", "up")
        r.ok("link", "set", b, "vb", "up")
        return a, b

    def test_tcp_between_namespaces(self):
        r = self.r
        a, b = self.pair()
        r.server(b, "10.77.0.2:8080", "[fd77::2]:8080")
        for host in ("10.77.0.2", "fd77::2"):
            payload = "hello-%s" % host
            self.assertEqual(r.client(a, host, 8080, payload), xor(payload.encode()))
        # The addresses live in the namespaces only: the host's /proc/net/tcp has no such server.
        with open("/proc/net/tcp") as f:
            self.assertNotIn("02004D0A:1F90", f.read())  # 10.77.0.2:8080

    def test_routes_neighbours_links_in_show(self):
        r = self.r
        a, b = self.pair()
        r.ok("route", "add", a, "10.88.0.0/16", "via", "10.77.0.2")
        r.ok("route", "add", a, "default", "via", "10.77.0.2", "dev", "va")
        r.ok("route", "add", a, "fd88::/64", "via", "fd77::2")
        r.ok("neigh", "add", a, "10.77.0.9", "lladdr", "02:00:00:00:00:09", "dev", "va")
        r.ok("neigh", "add", a, "fd77::9", "lladdr", "02:00:00:00:00:0a", "dev", "va")
        show = r.show(a)
        routes = {(x["dst"], x["gateway"], x["dev"], x["protocol"]) for x in show["routes"]}
        self.assertIn(("10.88.0.0/16", "10.77.0.2", "va", "static"), routes)
        self.assertIn(("default", "10.77.0.2", "va", "static"), routes)
        self.assertIn(("fd88::/64", "fd77::2", "va", "static"), routes)
        self.assertIn(("10.77.0.0/24", None, "va", "kernel"), routes)
        self.assertIn({"dev": "va", "family": "inet", "address": "10.77.0.9",
                       "lladdr": "02:00:00:00:00:09", "state": "permanent"}, show["neighbours"])
        self.assertIn({"dev": "va", "family": "inet6", "address": "fd77::9",
                       "lladdr": "02:00:00:00:00:0a", "state": "permanent"}, show["neighbours"])
        va = [l for l in show["links"] if l["name"] == "va"][0]
        self.assertEqual((va["kind"], va["up"]), ("veth", True))
        # The route works: traffic for 10.88.0.0/16 goes to b, which owns 10.88.0.1.
        r.ok("addr", "add", b, "lo", "10.88.0.1/32")
        r.server(b, "10.88.0.1:9000")
        self.assertEqual(r.client(a, "10.88.0.1", 9000, "routed"), xor(b"routed"))
        # Deletes.
        r.ok("route", "del", a, "10.88.0.0/16")
        r.ok("neigh", "del", a, "10.77.0.9", "dev", "va")
        show = r.show(a)
        self.assertNotIn("10.88.0.0/16", [x["dst"] for x in show["routes"]])
        self.assertNotIn("10.77.0.9", [x["address"] for x in show["neighbours"]])
        # Bridge, master, MTU, link delete.
        r.ok("link", "add", a, "br0", "type", "bridge")
        r.ok("link", "set", a, "va", "master", "br0")
        r.ok("link", "set", a, "va", "mtu", "1400")
        va = [l for l in r.show(a)["links"] if l["name"] == "va"][0]
        self.assertEqual((va["master"], va["mtu"]), ("br0", 1400))
        r.ok("link", "set", a, "va", "nomaster")
        r.ok("link", "del", a, "br0")
        names = [l["name"] for l in r.show(a)["links"]]
        self.assertNotIn("br0", names)
        # Kernel errors come back with the kernel's own (ext-ack) words, exit 1.
        self.assertExit(r.npte("addr", "add", a, "va", "10.77.0.1/24"), 1, "File exists")
        self.assertExit(r.npte("route", "add", a, "10.99.0.5/16", "via", "10.77.0.2"), 1,
                        "Invalid prefix for given prefix length")
        self.assertExit(r.npte("link", "set", a, "nosuch0", "up"), 1, "nosuch0")
        # Deleting one end of the pair removes the other, in the other namespace.
        r.ok("link", "del", a, "va")
        self.assertNotIn("vb", [l["name"] for l in r.show(b)["links"]])


BAD_NAMES = ["../x", "a/b", "Upper", "x" * 64, "", "-lead", "a.b", "a b"]


class Refusals(NetnsTest):
    def verbs(self, n):
        """Every verb that needs a managed namespace, against N."""
        return [
            ("destroy", n), ("destroy", n, "--dry-run"),
            ("exec", n, "true"), ("show", n), ("show", n, "--json"),
            ("link", "add", n, "v0", "type", "bridge"),
            ("link", "add", n, "v0", "type", "veth", "peer", "v1"),
            ("link", "set", n, "lo", "up"), ("link", "del", n, "lo"),
            ("addr", "add", n, "lo", "10.1.1.1/32"), ("addr", "del", n, "lo", "10.1.1.1/32"),
            ("route", "add", n, "default", "dev", "lo"), ("route", "del", n, "default"),
            ("neigh", "add", n, "10.1.1.2", "lladdr", "02:00:00:00:00:01", "dev", "lo"),
            ("neigh", "del", n, "10.1.1.2", "dev", "lo"),
        ]

    def setUp(self):
        super().setUp()
        # A managed namespace exists, so the registry dirs and the keeper exist too.
        self.good = self.r.name("good")
        self.r.ok("create", self.good)

    def check_all(self, n, needle, with_create, dry_run_renders):
        r = self.r
        before = r.snapshot()
        cases = self.verbs(n)
        cases.append(("link", "add", self.good, "v0", "type", "veth", "peer", "v1", "netns", n))
        if with_create:
            cases += [("create", n), ("create", n, "--net=slirp")]
        for args in cases:
            with self.subTest(args=args):
                res = r.npte(*args)
                if dry_run_renders and "--dry-run" in args:
                    # The script renders; its guard trips when run.
                    self.assertExit(res, 0)
                    self.assertExit(r.sh(res.stdout), 2, needle)
                else:
                    self.assertExit(res, 2, needle)
                self.assertEqual(r.snapshot(), before)
        res = r.port("--netns", n, "ls")
        self.assertExit(res, 2, needle)
        self.assertEqual(r.snapshot(), before)

    def test_unmanaged(self):
        n = self.r.name("nobody")
        self.check_all(n, "namespace %s is not managed by npte" % n, False, True)

    def test_malformed_names(self):
        for n in BAD_NAMES:
            with self.subTest(name=n):
                needle = "empty namespace name" if n == "" else "namespace name"
                self.check_all(n, needle, True, False)
                res = self.r.npte("create", n, "--dry-run")
                self.assertExit(res, 2, needle)
                self.assertEqual(res.stdout, "")

    def test_symlink_and_directory_markers(self):
        r = self.r
        n = r.name("odd")
        marker = os.path.join(r.reg, n)
        target = os.path.join(r.tmp, "target")
        open(target, "w").close()
        for kind in ("symlink", "dangling", "directory"):
            with self.subTest(kind=kind):
                if kind == "symlink":
                    os.symlink(target, marker)
                elif kind == "dangling":
                    os.symlink("/nonexistent/npte", marker)
                else:
                    os.mkdir(marker)
                self.check_all(n, "marker", True, True)
                # list skips it (with a warning) and shows the rest.
                res = r.ok("list")
                self.assertEqual(res.stdout, self.good + "\n")
                self.assertIn("ignoring " + n, res.stderr)
                if kind == "directory":
                    os.rmdir(marker)
                else:
                    os.unlink(marker)


class Concurrency(NetnsTest):
    def agree(self):
        """The registry and the kernel agree; every listed namespace is served."""
        r = self.r
        listed = r.listing()
        self.assertTrue(all(s == "active" for s in listed.values()), listed)
        self.assertEqual(set(listed), r.kernel_names())
        for n in listed:
            # Its npte attach is up: npte-port reaches it.
            self.assertExit(r.port("--netns", n, "ls"), 0)
        if not ROOT:
            self.assertEqual(r.keeper() != 0, bool(listed))
        leftovers = [x for x in os.listdir(r.reg) if "." in x and x.split(".")[0] not in listed]
        self.assertEqual(leftovers, [])
        return listed

    def wave(self, ops):
        procs = [subprocess.Popen([NPTE, "netns", op, n], env=self.r.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                 for op, n in ops]
        results = []
        for (op, n), p in zip(ops, procs):
            _, err = p.communicate(timeout=240)
            results.append((op, n, p.returncode, err))
        return results

    def test_twenty_concurrent(self):
        r = self.r
        same = r.name("same")
        names = [r.name("c%d" % i) for i in range(5)]
        # Wave 1: 10 creates of one name, 10 creates of different names.
        res = self.wave([("create", same)] * 10 + [("create", n) for n in names * 2])
        for op, n, rc, err in res:
            self.assertIn(rc, (0, 1), err)
            if rc == 1:
                self.assertIn("exists already", err)
        self.assertEqual(sum(1 for x in res if x[1] == same and x[2] == 0), 1)
        self.assertEqual(set(self.agree()), set(names) | {same})
        # Wave 2: creates and destroys of the same names, interleaved.
        ops = []
        for i in range(20):
            ops.append(("destroy" if i % 2 else "create", names[i % 5] if i % 3 else same))
        for op, n, rc, err in self.wave(ops):
            self.assertIn(rc, (0, 1, 2), err)
            if rc == 2:
                self.assertIn("not managed", err)
            if rc == 1:
                self.assertIn("exists already", err)
        self.agree()
        # Wave 3: destroy everything, twice over.
        for op, n, rc, err in self.wave([("destroy", n) for n in (names + [same]) * 2]):
            self.assertIn(rc, (0, 2), err)
        self.assertEqual(self.agree(), {})


class DryRun(NetnsTest):
    CONFIG = [
        ("link", "add", "{n}", "x0", "type", "veth", "peer", "x1"),
        ("link", "add", "{n}", "br0", "type", "bridge"),
        ("addr", "add", "{n}", "x0", "10.5.0.1/24"),
        ("addr", "add", "{n}", "x0", "fd05::1/64"),
        ("link", "set", "{n}", "x0", "up"),
        ("link", "set", "{n}", "x1", "mtu", "1400"),
        ("link", "set", "{n}", "x1", "master", "br0"),
        ("link", "set", "{n}", "x1", "up"),
        ("route", "add", "{n}", "10.6.0.0/16", "via", "10.5.0.2"),
        ("route", "add", "{n}", "default", "via", "10.5.0.2", "dev", "x0"),
        ("neigh", "add", "{n}", "10.5.0.9", "lladdr", "02:00:00:00:00:09", "dev", "x0"),
        ("addr", "del", "{n}", "x0", "fd05::1/64"),
    ]

    def state(self, name):
        """show --json without what differs between two namespaces by nature."""
        s = self.r.show(name)
        links = sorted((l["name"], l["kind"], l["mtu"], l["up"], l["master"]) for l in s["links"])
        addrs = sorted((a["dev"], a["address"], a["prefix"], a["scope"]) for a in s["addresses"]
                       if not a["address"].startswith("fe80:"))
        routes = sorted((x["dst"], x["gateway"] or "", x["dev"] or "", x["protocol"], x["scope"])
                        for x in s["routes"] if not x["dst"].startswith("fe80:"))
        neighs = sorted((n["dev"], n["address"], n["lladdr"], n["state"]) for n in s["neighbours"]
                        if n["state"] == "permanent")
        return links, addrs, routes, neighs

    def test_script_equals_live(self):
        r = self.r
        live, dry = r.name("live"), r.name("dry")
        before = r.snapshot()
        script = r.ok("create", dry, "--dry-run").stdout
        self.assertTrue(script.startswith("#!/bin/sh\n"))
        self.assertEqual(r.snapshot(), before, "--dry-run changed something")
        r.ok("create", live)
        res = r.sh(script)
        self.assertExit(res, 0)
        self.assertEqual(r.listing(), {live: "active", dry: "active"})
        self.assertEqual(r.kernel_names(), {live, dry})
        for step in self.CONFIG:
            r.ok(*[a.format(n=live) for a in step])
            text = r.ok(*([a.format(n=dry) for a in step] + ["--dry-run"])).stdout
            self.assertIn('test -f "%s" || { echo "npte: namespace %s is not managed by npte" '
                          '>&2; exit 2; }' % (os.path.join(r.reg, dry), dry), text)
            self.assertExit(r.sh(text), 0)
        self.assertEqual(self.state(live), self.state(dry))
        # The rendered destroy leaves nothing behind, like the live one.
        self.assertExit(r.sh(r.ok("destroy", dry, "--dry-run").stdout), 0)
        r.ok("destroy", live)
        self.assertEqual(r.listing(), {})
        self.assertEqual(r.kernel_names(), set())
        self.assertEqual(os.listdir(r.reg), [])
        if not ROOT:
            self.assertEqual(r.keeper(), 0)

    def test_scripts_concatenate_and_guard(self):
        r = self.r
        n, other = r.name("cat"), r.name("unknown")
        script = (r.ok("create", n, "--dry-run").stdout
                  + r.ok("addr", "add", n, "lo", "10.9.9.9/32", "--dry-run").stdout)
        self.assertExit(r.sh(script), 0)
        self.assertIn("10.9.9.9", [a["address"] for a in r.show(n)["addresses"]])
        # Against a namespace that does not exist the script stops at the guard, exit 2.
        before = r.snapshot()
        text = r.ok("addr", "add", other, "lo", "10.9.9.9/32", "--dry-run").stdout
        res = r.sh(text)
        self.assertExit(res, 2, "namespace %s is not managed by npte" % other)
        self.assertEqual(r.snapshot(), before)
        # A create script followed by an addr add of another name stops at that guard.
        res = r.sh(r.ok("create", other, "--dry-run").stdout
                   + r.ok("addr", "add", n + "x", "lo", "10.1.1.1/32", "--dry-run").stdout)
        self.assertExit(res, 2, "not managed")
        self.assertEqual(set(r.listing()), {n, other})

    def test_dry_run_takes_no_lock(self):
        r = self.r
        n = r.name("nolock")
        r.ok("create", n)
        with open(os.path.join(r.base, "netns.lock"), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            t0 = time.monotonic()
            for args in (("create", r.name("x"), "--dry-run"), ("destroy", n, "--dry-run"),
                         ("addr", "add", n, "lo", "10.3.3.3/32", "--dry-run")):
                self.assertExit(r.npte(*args, timeout=10), 0)
            self.assertLess(time.monotonic() - t0, 8)
            # While the lock is held, a live verb waits: here it is given up on.
            p = subprocess.Popen([NPTE, "netns", "addr", "add", n, "lo", "10.4.4.4/32"],
                                 env=r.env, stderr=subprocess.PIPE)
            time.sleep(1)
            self.assertIsNone(p.poll())
            p.kill()
            p.communicate(timeout=10)
        self.assertNotIn("10.4.4.4", [a["address"] for a in r.show(n)["addresses"]])


class Stale(NetnsTest):
    def test_stale_then_destroy_then_create(self):
        r = self.r
        k1, k2, k3 = r.name("k1"), r.name("k2"), r.name("k3")
        r.ok("create", k1)
        r.ok("create", k2)
        if ROOT:
            # No keeper as root: the bindings vanish behind npte's back instead.
            for n in (k1, k2):
                subprocess.run(["ip", "netns", "del", n], check=True, timeout=10)
        else:
            keeper = r.keeper()
            os.kill(keeper, signal.SIGKILL)
            wait_for(lambda: r.keeper() == 0, 10, "the keeper to die")
        self.assertEqual(r.listing(), {k1: "stale", k2: "stale"})
        self.assertEqual(r.ok("list").stdout, "%s (stale)\n%s (stale)\n" % (k1, k2))
        self.assertExit(r.npte("show", k1), 1, "stale")
        self.assertExit(r.npte("exec", k1, "true"), 1, "stale")
        self.assertExit(r.npte("addr", "add", k1, "lo", "10.1.1.1/32"), 1, "stale")
        self.assertExit(r.npte("destroy", k1), 0)
        self.assertEqual(r.listing(), {k2: "stale"})
        self.assertExit(r.npte("create", k3), 0)
        self.assertEqual(r.listing(), {k2: "stale", k3: "active"})
        self.assertEqual(r.ok("exec", k3, "cat", "/proc/net/dev").stdout.count("lo:"), 1)
        self.assertExit(r.npte("destroy", k2), 0)
        self.assertExit(r.npte("destroy", k3), 0)
        self.assertEqual(r.listing(), {})
        self.assertEqual(os.listdir(r.reg), [])


class Ports(NetnsTest):
    def test_port_forwarding(self):
        r = self.r
        n = r.name("web")
        r.ok("create", n)
        r.server(n, "127.0.0.1:8080", "[::1]:8080")
        hport = free_port()
        res = r.port("--netns", n, "add", "127.0.0.1:%d:8080/tcp" % hport)
        self.assertExit(res, 0)
        pid = res.stdout.strip()
        self.assertIn("%d" % hport, r.port("--netns", n, "ls").stdout)
        reply, _ = tcp_exchange("127.0.0.1", hport, b"forwarded")
        self.assertEqual(reply, xor(b"forwarded"))
        self.assertExit(r.port("--netns", n, "rm", pid), 0)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", hport), timeout=2)
        self.assertExit(r.port("--netns", n, "--state-dir", r.tmp, "ls"), 2)
        info = json.loads(r.port("--netns", n, "--json", "info").stdout)
        self.assertEqual(info["stateDir"], os.path.join(r.reg, n + ".state"))


if __name__ == "__main__":
    run_tests()
