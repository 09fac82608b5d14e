"""npte network: named networks of managed namespaces, rootless and as root.

Every test gets a registry of its own, as in test_netns.py: XDG_RUNTIME_DIR
(rootless) or NPTE_NETNS_RUN_DIR (root) points into a fresh 0700 directory,
and namespace names carry a random per-run prefix. Networks use subnets of
their own registry's index; as root the infrastructure namespace is
/run/netns/npte.networks-HASH of that registry. Every network, namespace
and process a test makes is removed at tear-down, every wait is bounded,
and traffic flows only between namespaces the test made, and (--outbound)
from them to a server of the test on the host's 127.0.0.1, which slirp
shows the namespaces as 10.0.2.2.
"""
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import NPTE, NSSERVER, PY, run_tests, wait_for, xor  # noqa: E402
from test_netns import ROOT, Registry  # noqa: E402

PORT = 7000

# Connects to HOST PORT within TIMEOUT s, sends PAYLOAD, half-closes, prints the reply in hex.
CLIENT = r"""
import socket, sys
host, port, data, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), float(sys.argv[4])
s = socket.create_connection((host, port), timeout=timeout)
s.settimeout(10)
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


class HostServer:
    """An XOR echo server of the test on the host's 127.0.0.1, one connection at a time: at
    most MAX_CONNS connections, for at most LIFETIME s. Records each client's address."""

    def __init__(self, max_conns=16, lifetime=240):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.max_conns = max_conns
        self.deadline = time.monotonic() + lifetime
        self.peers = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        served = 0
        while (not self.stopped.is_set() and served < self.max_conns
               and time.monotonic() < self.deadline):
            try:
                c, peer = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            served += 1
            data = b""
            with c:
                c.settimeout(10)
                try:
                    while True:
                        d = c.recv(65536)
                        if not d:
                            break
                        data += d
                    c.sendall(xor(data))
                except OSError:
                    pass
            self.peers.append(peer[0])

    def close(self):
        self.stopped.set()
        self.thread.join(5)
        self.sock.close()


class NetRegistry(Registry):
    """A private registry with networks: the netns helpers plus npte network."""

    def net(self, *args, timeout=120, check=False):
        r = subprocess.run([NPTE, "network"] + [str(a) for a in args], env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        if "GLib" in r.stderr or "CRITICAL" in r.stderr or "Sanitizer" in r.stderr:
            raise AssertionError("npte network %s: %s" % (args, r.stderr))
        if check and r.returncode != 0:
            raise AssertionError("npte network %s: exit %d: %s" % (args, r.returncode, r.stderr))
        return r

    def net_ok(self, *args, **kw):
        return self.net(*args, check=True, **kw)

    @property
    def index_path(self):
        return os.path.join(self.base, "networks.json")

    def index_text(self):
        with open(self.index_path) as f:
            return f.read()

    def index(self):
        if not os.path.exists(self.index_path):
            return {"networks": []}
        with open(self.index_path) as f:
            return json.load(f)

    def inspect(self, name):
        return json.loads(self.net_ok("inspect", name, "--json").stdout)

    def members(self, name):
        return {m["workspace"]: m["ip"] for m in self.inspect(name)["members"]}

    def infra(self):
        """The infrastructure namespace's name (net_infra_name())."""
        if not ROOT:
            return "npte.networks"
        h = 5381  # g_str_hash(), djb2 over signed chars
        for ch in self.base.encode():
            h = (h * 33 + (ch - 256 if ch > 127 else ch)) & 0xffffffff
        return "npte.networks-%08x" % h

    def infra_exists(self):
        if ROOT:
            return os.path.exists(os.path.join("/run/netns", self.infra()))
        return "npte.networks" in self.kernel_names()

    def infra_links(self):
        """{name: {"master": ..., "addrs": [...]}} of the infrastructure namespace."""
        if ROOT:
            cmd = ["ip", "-n", self.infra(), "-j", "addr"]
        else:
            k = self.keeper()
            path = "/proc/%d/root%s/netns-keeper/npte.networks" % (k, self.base)
            cmd = ["nsenter", "-t", str(k), "-U", "--preserve-credentials", "--net=" + path,
                   "ip", "-j", "addr"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=True).stdout
        return {l["ifname"]: {"master": l.get("master"), "mac": l.get("address"),
                              "addrs": ["%s/%d" % (a["local"], a["prefixlen"])
                                        for a in l.get("addr_info", []) if a["family"] == "inet"]}
                for l in json.loads(out)}

    def ns_addrs(self, name):
        """{link: [ADDR/PREFIX]} of the IPv4 addresses in namespace NAME (npte netns show)."""
        out = {}
        for a in self.show(name)["addresses"]:
            if a["family"] == "inet" and a["dev"] != "lo":
                out.setdefault(a["dev"], []).append("%s/%d" % (a["address"], a["prefix"]))
        return out

    def hosts(self, name):
        return self.ok("exec", name, "cat", "/etc/hosts").stdout

    def serve(self, *names):
        for n in names:
            self.server(n, "0.0.0.0:%d" % PORT, timeout=240)

    def reach(self, src, host, payload="ping", timeout=10):
        """TRUE when src reaches HOST:PORT and gets the XOR echo back."""
        r = self.npte("exec", src, PY, "-c", CLIENT, host, PORT, payload, timeout, timeout=60)
        if r.returncode != 0:
            return False
        return bytes.fromhex(r.stdout.strip()) == xor(payload.encode())

    def reach_host(self, src, port, payload="out", timeout=10):
        """TRUE when src reaches the test's server on the host (127.0.0.1:PORT) as 10.0.2.2."""
        r = self.npte("exec", src, PY, "-c", CLIENT, "10.0.2.2", port, payload, timeout,
                      timeout=60)
        if r.returncode != 0:
            return False
        return bytes.fromhex(r.stdout.strip()) == xor(payload.encode())

    def slirp_state(self):
        return os.path.join(self.reg, self.infra() + ".state")

    def slirp_running(self):
        """Whether the infrastructure namespace's slirp (its npte attach) holds its state lock."""
        try:
            fd = os.open(os.path.join(self.slirp_state(), "lock"), os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def routes(self, name):
        """The IPv4 default routes in NAME as (gateway, dev, metric), in the kernel's order."""
        out = json.loads(self.ok("exec", name, "ip", "-j", "-4", "route").stdout)
        return [(r.get("gateway"), r["dev"], r.get("metric", 0)) for r in out
                if r["dst"] == "default"]

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        idx = self.index()
        for n in idx["networks"]:
            self.net("rm", n["name"], "--force")
        assert not os.path.exists(self.index_path), "network index left behind"
        assert not self.infra_exists(), "infrastructure namespace left behind"
        assert not self.slirp_running(), "slirp of the infrastructure namespace left behind"
        if os.path.isdir(self.reg):
            left = [n for n in os.listdir(self.reg) if n.startswith("npte.networks")]
            assert left == [], "files of the infrastructure namespace left behind: %s" % left
        super().close()


class NetTest(unittest.TestCase):
    def setUp(self):
        self.r = NetRegistry()

    def tearDown(self):
        self.r.close()

    def assertExit(self, res, code, needle=None):
        self.assertEqual(res.returncode, code, "exit %d, stderr: %s" % (res.returncode, res.stderr))
        if needle is not None:
            self.assertIn(needle, res.stderr)

    def namespaces(self, *suffixes):
        names = [self.r.name(s) for s in suffixes]
        for n in names:
            self.r.ok("create", n)
        return names


class Members(NetTest):
    def test_three_members_by_ip_and_name_leave_and_rm(self):
        r = self.r
        a, b, c = self.namespaces("a", "b", "c")
        res = r.net("create", "web")
        self.assertExit(res, 0)
        self.assertEqual(res.stdout, "10.44.0.0/24\n")
        info = r.inspect("web")
        self.assertEqual((info["name"], info["subnet"], info["gateway"], info["members"]),
                         ("web", "10.44.0.0/24", "10.44.0.1", []))
        ips = {n: r.net_ok("join", "web", n).stdout.strip() for n in (a, b, c)}
        self.assertEqual(ips, {a: "10.44.0.2", b: "10.44.0.3", c: "10.44.0.4"})
        self.assertEqual(r.net_ok("join", "web", b).stdout, "10.44.0.3\n")
        self.assertEqual(r.members("web"), ips)
        self.assertEqual(r.index()["networks"][0]["members"],
                         [{"workspace": n, "ip": ips[n]} for n in (a, b, c)])
        for n in (a, b, c):
            self.assertEqual(r.ns_addrs(n), {"nw-0a2c0000": [ips[n] + "/24"]})
            for m in (a, b, c):
                self.assertIn("%s\t%s %s.web\n" % (ips[m], m, m), r.hosts(n))
        links = r.infra_links()
        self.assertEqual(links["nb-0a2c0000"]["addrs"], ["10.44.0.1/24"])
        for n in (a, b, c):
            self.assertEqual(links["nh-%08x" % int.from_bytes(bytes(map(int, ips[n].split("."))),
                                                        "big")]["master"], "nb-0a2c0000")
        r.serve(a, b, c)
        for x in (a, b, c):
            for y in (a, b, c):
                if x != y:
                    self.assertTrue(r.reach(x, ips[y]), "%s -> %s by address" % (x, y))
                    self.assertTrue(r.reach(x, y), "%s -> %s by name" % (x, y))
        self.assertTrue(r.reach(a, c + ".web"))

        # leave cuts exactly b off; leave is idempotent.
        self.assertExit(r.net("leave", "web", b), 0)
        self.assertExit(r.net("leave", "web", b), 0)
        self.assertExit(r.net("leave", "nosuch", b), 0)
        self.assertEqual(r.members("web"), {a: ips[a], c: ips[c]})
        self.assertEqual(r.ns_addrs(b), {})
        self.assertNotIn(b, r.hosts(a))
        self.assertNotIn(a, r.hosts(b))
        self.assertFalse(os.path.exists(os.path.join(r.reg, b + ".d", "hosts")))
        self.assertTrue(r.reach(a, c) and r.reach(c, a))
        self.assertFalse(r.reach(a, ips[b], timeout=3))
        self.assertFalse(r.reach(b, ips[a], timeout=3))
        # b joins again: the lowest free address is its old one.
        self.assertEqual(r.net_ok("join", "web", b).stdout, ips[b] + "\n")
        self.assertTrue(r.reach(b, a))

        # rm refuses while members remain, and changes nothing.
        before = r.index_text()
        self.assertExit(r.net("rm", "web"), 1, "has 3 members")
        self.assertEqual(r.index_text(), before)
        self.assertTrue(r.reach(a, b))
        self.assertExit(r.net("rm", "web", "--force"), 0)
        self.assertFalse(os.path.exists(r.index_path))
        self.assertFalse(r.infra_exists())
        for n in (a, b, c):
            self.assertEqual(r.ns_addrs(n), {})
            self.assertFalse(os.path.exists(os.path.join(r.reg, n + ".d", "hosts")))
        self.assertExit(r.net("inspect", "web"), 2, "does not exist")
        self.assertEqual(r.net_ok("ls").stdout.splitlines()[1:], [])

    def test_two_networks_and_netns_destroy(self):
        r = self.r
        a, b, c = self.namespaces("a", "b", "c")
        # c has a hosts file of its own: npte adds its block and keeps the rest.
        own = os.path.join(r.reg, c + ".d", "hosts")
        with open(own, "w") as f:
            f.write("127.0.0.1 localhost\n10.123.0.1 mycache\n")
        r.net_ok("create", "front", "--subnet", "172.30.0.0/24", "--gateway", "172.30.0.254")
        r.net_ok("create", "back", "--subnet", "172.31.0.0/29")
        self.assertEqual(r.net_ok("join", "front", a).stdout, "172.30.0.1\n")
        r.net_ok("join", "front", b)
        r.net_ok("join", "back", b, "--ip", "172.31.0.6")
        r.net_ok("join", "back", c)
        ls = json.loads(r.net_ok("ls", "--json").stdout)
        self.assertEqual([(n["name"], len(n["members"])) for n in ls], [("back", 2), ("front", 2)])
        self.assertEqual(r.ns_addrs(b), {"nw-ac1e0000": ["172.30.0.2/24"],
                                         "nw-ac1f0000": ["172.31.0.6/29"]})
        self.assertNotIn(c, r.hosts(a))
        self.assertIn(a, r.hosts(b))
        self.assertIn(c, r.hosts(b))
        self.assertTrue(r.hosts(c).startswith("127.0.0.1 localhost\n10.123.0.1 mycache\n# npte"))
        self.assertIn("172.31.0.6\t%s %s.back\n" % (b, b), r.hosts(c))
        r.serve(a, b, c)
        self.assertTrue(r.reach(a, b) and r.reach(c, b) and r.reach(b, c))
        self.assertFalse(r.reach(a, "172.31.0.2", timeout=3))
        # rm of one network leaves the other alone; its bridge and ports are gone.
        self.assertExit(r.net("rm", "back", "--force"), 0)
        links = r.infra_links()
        self.assertNotIn("nb-ac1f0000", links)
        self.assertEqual(sorted(l for l in links if l.startswith("nh-")),
                         ["nh-ac1e0001", "nh-ac1e0002"])
        self.assertTrue(r.reach(a, b))
        with open(own) as f:
            self.assertEqual(f.read(), "127.0.0.1 localhost\n10.123.0.1 mycache\n")
        # destroy leaves every network: the index, the peers' hosts files and the bridge port.
        r.net_ok("create", "back", "--subnet", "172.31.0.0/29")
        r.net_ok("join", "back", b)
        r.ok("destroy", b)
        self.assertEqual(r.members("front"), {a: "172.30.0.1"})
        self.assertEqual(r.members("back"), {})
        self.assertNotIn(b, r.hosts(a))
        self.assertEqual(sorted(l for l in r.infra_links() if l.startswith("nh-")),
                         ["nh-ac1e0001"])
        # Its dry-run script does the same.
        r.net_ok("join", "back", c)
        res = r.sh(r.ok("destroy", c, "--dry-run").stdout)
        self.assertExit(res, 0)
        self.assertEqual(r.members("back"), {})
        self.assertNotIn(c, r.listing())
        self.assertFalse(os.path.exists(own))


class Restart(NetTest):
    def test_keeper_killed_restores_addresses(self):
        r = self.r
        a, b = self.namespaces("a", "b")
        r.net_ok("create", "net", "--subnet", "10.99.0.0/28")
        self.assertEqual(r.net_ok("join", "net", a, "--ip", "10.99.0.9").stdout, "10.99.0.9\n")
        self.assertEqual(r.net_ok("join", "net", b).stdout, "10.99.0.2\n")
        before = r.index_text()
        if ROOT:
            # No keeper as root: the infrastructure binding and a member's vanish instead.
            subprocess.run(["ip", "netns", "del", r.infra()], check=True, timeout=10)
            subprocess.run(["ip", "netns", "del", a], check=True, timeout=10)
            self.assertEqual(r.listing()[a], "stale")
        else:
            keeper = r.keeper()
            os.kill(keeper, signal.SIGKILL)
            wait_for(lambda: r.keeper() == 0, 10, "the keeper to die")
            self.assertEqual(r.listing(), {a: "stale", b: "stale"})
        res = r.net("ls")
        self.assertExit(res, 0, "restoring 1 network from the index")
        self.assertIn("net ", res.stdout)
        self.assertEqual(r.listing(), {a: "active", b: "active"})
        if not ROOT:
            self.assertGreater(r.keeper(), 0)
        self.assertEqual(r.index_text(), before)
        self.assertEqual(r.ns_addrs(a), {"nw-0a630000": ["10.99.0.9/28"]})
        self.assertEqual(r.ns_addrs(b), {"nw-0a630000": ["10.99.0.2/28"]})
        self.assertEqual(r.infra_links()["nb-0a630000"]["addrs"], ["10.99.0.1/28"])
        r.serve(a, b)
        self.assertTrue(r.reach(a, b) and r.reach(b, a))
        self.assertTrue(r.reach(a, "10.99.0.2"))
        # A second command finds everything in place and restores nothing.
        self.assertNotIn("restoring", r.net_ok("ls").stderr)
        self.assertEqual(r.net_ok("join", "net", a).stdout, "10.99.0.9\n")

    def test_parallel_joins(self):
        r = self.r
        names = self.namespaces(*["p%02d" % i for i in range(20)])
        r.net_ok("create", "par", "--subnet", "10.98.0.32/27")
        procs = [subprocess.Popen([NPTE, "network", "join", "par", n], env=r.env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for n in names]
        got = {}
        for n, p in zip(names, procs):
            out, err = p.communicate(timeout=180)
            self.assertEqual(p.returncode, 0, err)
            self.assertNotIn("GLib", err)
            got[n] = out.strip()
        self.assertEqual(len(set(got.values())), 20)
        hosts = {"10.98.0.%d" % i for i in range(34, 63)}  # .32 network, .33 gateway, .63 broadcast
        self.assertTrue(set(got.values()) <= hosts, got)
        self.assertEqual(r.members("par"), got)
        self.assertEqual({m["workspace"]: m["ip"] for m in r.index()["networks"][0]["members"]},
                         got)
        # The lowest free addresses, whatever the order.
        self.assertEqual(set(got.values()), {"10.98.0.%d" % i for i in range(34, 54)})
        ports = [l for l in r.infra_links() if l.startswith("nh-")]
        self.assertEqual(len(ports), 20)
        for n in names[:5] + names[-2:]:
            self.assertEqual(r.ns_addrs(n), {"nw-0a620020": [got[n] + "/27"]})


class Validation(NetTest):
    def test_usage_and_conflicts(self):
        r = self.r
        a, b = self.namespaces("a", "b")
        for args in (("create", "Bad"), ("create", "a-"), ("create", "x", "--subnet", "10.0.0.1/24"),
                     ("create", "x", "--subnet", "10.0.0.0/31"), ("create", "x", "--subnet", "10.0.0.0/7"),
                     ("create", "x", "--subnet", "10.0.0.0/24", "--gateway", "10.0.1.1"),
                     ("create", "x", "--subnet", "10.0.0.0/24", "--gateway", "10.0.0.255"),
                     ("create", "x", "--bogus"), ("create",), ("create", "x", "y"), ("ls", "x"),
                     ("join", "x"), ("join", "x", "Bad.ns"), ("inspect", "x", "--force"),
                     ("frobnicate",), ("create", "x", "--subnet")):
            res = r.net(*args)
            self.assertExit(res, 2)
            self.assertEqual(res.stdout, "")
        self.assertFalse(os.path.exists(r.index_path))
        r.net_ok("create", "n", "--subnet", "10.7.0.0/16")
        self.assertExit(r.net("create", "n"), 1, "exists already")
        self.assertExit(r.net("create", "o", "--subnet", "10.7.3.0/24"), 1, "overlaps 10.7.0.0/16")
        self.assertExit(r.net("join", "nosuch", a), 2, "does not exist")
        self.assertExit(r.net("join", "n", r.name("nosuch")), 2, "not managed")
        self.assertExit(r.net("join", "n", a, "--ip", "10.8.0.2"), 2, "outside")
        self.assertExit(r.net("join", "n", a, "--ip", "10.7.0.1"), 2, "gateway")
        r.net_ok("join", "n", a, "--ip", "10.7.0.2")
        self.assertExit(r.net("join", "n", b, "--ip", "10.7.0.2"), 1, "taken by " + a)
        self.assertExit(r.net("join", "n", a, "--ip", "10.7.0.3"), 1, "member of network n already")
        self.assertExit(r.net("rm", "nosuch"), 2, "does not exist")
        self.assertExit(r.net("inspect", "nosuch"), 2, "does not exist")
        # A full /30 fails closed.
        r.net_ok("create", "tiny", "--subnet", "10.6.0.0/30")
        self.assertEqual(r.net_ok("join", "tiny", a).stdout, "10.6.0.2\n")
        before = r.index_text()
        self.assertExit(r.net("join", "tiny", b), 1, "is full")
        self.assertEqual(r.index_text(), before)
        self.assertEqual(r.ns_addrs(b), {})
        self.assertIn("npte network create NAME", r.net_ok("--help").stdout)
        self.assertIn("npte network join", r.net_ok("join", "--help").stdout)

    def test_corrupt_index_is_reported_and_left_alone(self):
        r = self.r
        a, = self.namespaces("a")
        r.net_ok("create", "n")
        r.net_ok("join", "n", a)
        good = r.index_text()
        for bad in (good[:len(good) // 2], "", '{"networks":[{"name":1}]}',
                    good.replace('"members"', '"memberz"'), "[]"):
            with open(r.index_path, "w") as f:
                f.write(bad)
            st = os.stat(r.index_path)
            for args in (("ls",), ("inspect", "n"), ("create", "m"), ("join", "n", a),
                         ("leave", "n", a), ("rm", "n", "--force"), ("create", "m", "--dry-run")):
                res = r.net(*args)
                self.assertExit(res, 1, "the network index %s is corrupt" % r.index_path)
            self.assertExit(r.npte("destroy", a), 1, "is corrupt")
            self.assertEqual(r.index_text(), bad)
            self.assertEqual(os.stat(r.index_path).st_mtime_ns, st.st_mtime_ns)
            self.assertIn(a, r.listing())
        with open(r.index_path, "w") as f:
            f.write(good)
        self.assertEqual(r.members("n"), {a: "10.44.0.2"})


class DryRun(NetTest):
    def test_scripts(self):
        r = self.r
        a, = self.namespaces("a")
        before = r.snapshot()
        script = r.net_ok("create", "dry", "--subnet", "10.97.0.0/24", "--dry-run").stdout
        self.assertTrue(script.startswith("#!/bin/sh\n"))
        self.assertEqual(r.snapshot(), before, "--dry-run changed something")
        res = r.sh(script)
        self.assertExit(res, 0)
        self.assertEqual(res.stdout, "10.97.0.0/24\n")
        info = r.inspect("dry")
        self.assertEqual((info["subnet"], info["gateway"]), ("10.97.0.0/24", "10.97.0.1"))
        self.assertEqual(r.infra_links()["nb-0a610000"]["addrs"], ["10.97.0.1/24"])
        self.assertEqual(r.net_ok("join", "dry", a).stdout, "10.97.0.2\n")
        # A script made from an index that changed since refuses to run.
        stale = r.net_ok("create", "other", "--dry-run").stdout
        r.net_ok("create", "third")
        self.assertExit(r.sh(stale), 1, "changed since")
        self.assertExit(r.net("rm", "dry", "--dry-run"), 1, "has 1 member")
        self.assertExit(r.sh(r.net_ok("rm", "third", "--dry-run").stdout), 0)
        res = r.sh(r.net_ok("rm", "dry", "--force", "--dry-run").stdout)
        self.assertExit(res, 0)
        self.assertEqual(r.index(), {"networks": []})
        self.assertFalse(r.infra_exists())
        self.assertEqual(r.ns_addrs(a), {})
        self.assertFalse(os.path.exists(os.path.join(r.reg, a + ".d", "hosts")))


class Outbound(NetTest):
    """--outbound: members reach the host's loopback through the infrastructure namespace."""

    def setUp(self):
        super().setUp()
        self.host = HostServer()

    def tearDown(self):
        self.host.close()
        super().tearDown()

    def test_members_reach_the_host_others_do_not(self):
        r, port = self.r, self.host.port
        a, b, c = self.namespaces("a", "b", "c")
        d = r.name("d")
        r.ok("create", d, "--net=slirp")
        res = r.net("create", "out", "--outbound", "--subnet", "10.96.0.0/24")
        self.assertExit(res, 0)
        self.assertEqual(res.stdout, "10.96.0.0/24\n")
        self.assertTrue(r.slirp_running())
        r.net_ok("create", "plain", "--subnet", "10.95.0.0/24")
        self.assertTrue(r.inspect("out")["outbound"])
        self.assertFalse(r.inspect("plain")["outbound"])
        ls = json.loads(r.net_ok("ls", "--json").stdout)
        self.assertEqual({n["name"]: n["outbound"] for n in ls}, {"out": True, "plain": False})
        self.assertEqual([n["outbound"] for n in r.index()["networks"]], [True, False])
        table = r.net_ok("ls").stdout.splitlines()
        self.assertEqual(table[0].split(), ["NAME", "SUBNET", "GATEWAY", "OUTBOUND", "MEMBERS"])
        self.assertEqual(table[1].split(), ["out", "10.96.0.0/24", "10.96.0.1", "yes", "0"])
        self.assertEqual(table[2].split(), ["plain", "10.95.0.0/24", "10.95.0.1", "no", "0"])
        self.assertIn("\noutbound: yes\n", r.net_ok("inspect", "out").stdout)
        self.assertIn("\noutbound: no\n", r.net_ok("inspect", "plain").stdout)
        r.net_ok("join", "out", a)
        r.net_ok("join", "out", c)
        r.net_ok("join", "plain", b)
        self.assertEqual(r.routes(a), [("10.96.0.1", "nw-0a600000", 100)])
        self.assertEqual(r.routes(b), [])
        self.assertTrue(r.reach_host(a, port))
        self.assertTrue(r.reach_host(c, port, payload="x" * 5000))
        # Not outbound: no default route, no way out.
        self.assertFalse(r.reach_host(b, port, timeout=3))
        # The host saw loopback clients only: slirp connected to 127.0.0.1 for 10.0.2.2.
        self.assertEqual(self.host.peers, ["127.0.0.1", "127.0.0.1"])
        # Members still reach each other; an --outbound network does not reach another network.
        r.serve(b, c)
        self.assertTrue(r.reach(a, c))
        self.assertFalse(r.reach(a, "10.95.0.2", timeout=3))
        self.assertFalse(r.reach(b, "10.96.0.3", timeout=3))
        # A member with a slirp of its own keeps its default route (metric 0) first.
        r.net_ok("join", "out", d)
        self.assertEqual(r.routes(d), [("10.0.2.2", "tap0", 0), ("10.96.0.1", "nw-0a600000", 100)])
        self.assertTrue(r.reach_host(d, port))
        # leave cuts a off, and only a. The gateway keeps its MAC address whichever port goes.
        self.assertEqual(r.infra_links()["nb-0a600000"]["mac"], "02:6e:0a:60:00:01")
        r.net_ok("leave", "out", a)
        self.assertEqual(r.infra_links()["nb-0a600000"]["mac"], "02:6e:0a:60:00:01")
        self.assertEqual(r.routes(a), [])
        self.assertFalse(r.reach_host(a, port, timeout=3))
        self.assertTrue(r.reach_host(c, port))
        # rm of the last --outbound network stops its slirp; the other network stays.
        self.assertExit(r.net("rm", "out", "--force"), 0)
        self.assertFalse(r.slirp_running())
        self.assertFalse(os.path.exists(r.slirp_state()))
        self.assertTrue(r.infra_exists())
        self.assertNotIn("tap0", r.infra_links())
        self.assertEqual(r.routes(c), [])
        self.assertFalse(r.reach_host(c, port, timeout=3))
        self.assertTrue(r.reach_host(d, port))
        self.assertEqual(self.host.peers, ["127.0.0.1"] * 5)

    def test_restart_restores_outbound(self):
        r, port = self.r, self.host.port
        a, = self.namespaces("a")
        r.net_ok("create", "out", "--outbound")
        r.net_ok("join", "out", a)
        self.assertTrue(r.reach_host(a, port))
        # The slirp alone dies: the next command starts it again.
        with open(os.path.join(r.slirp_state(), "child_pid")) as f:
            os.kill(int(f.read()), signal.SIGKILL)
        wait_for(lambda: not r.slirp_running(), 10, "the slirp to stop")
        self.assertFalse(r.reach_host(a, port, timeout=3))
        res = r.net("ls")
        self.assertExit(res, 0, "slirp of the --outbound networks was not running: starting it")
        self.assertTrue(r.slirp_running())
        self.assertTrue(r.reach_host(a, port))
        self.assertNotIn("starting it", r.net_ok("ls").stderr)
        # The infrastructure namespace goes: everything, the slirp included, comes back.
        if ROOT:
            subprocess.run(["ip", "netns", "del", r.infra()], check=True, timeout=10)
        else:
            os.kill(r.keeper(), signal.SIGKILL)
            wait_for(lambda: r.keeper() == 0, 10, "the keeper to die")
        self.assertExit(r.net("inspect", "out"), 0, "restoring 1 network from the index")
        self.assertTrue(r.slirp_running())
        self.assertEqual(r.members("out"), {a: "10.44.0.2"})
        self.assertEqual(r.routes(a), [("10.44.0.1", "nw-0a2c0000", 100)])
        self.assertTrue(r.reach_host(a, port))
        self.assertEqual(self.host.peers, ["127.0.0.1"] * 3)

    def test_validation(self):
        r = self.r
        a, = self.namespaces("a")
        for args, needle in ((("create", "x", "--outbound", "--subnet", "10.0.2.0/24"),
                              "overlaps 10.0.2.0/24"),
                             (("create", "x", "--outbound", "--subnet", "10.0.0.0/16"),
                              "overlaps 10.0.2.0/24"),
                             (("create", "x", "--outbound", "--subnet", "10.0.2.128/25",
                               "--dry-run"), "overlaps 10.0.2.0/24"),
                             (("create", "x", "--outbound=yes"), "unknown option"),
                             (("join", "x", a, "--outbound"), "does not take"),
                             (("ls", "--outbound"), "does not take"),
                             (("rm", "x", "--outbound"), "does not take")):
            res = r.net(*args)
            self.assertExit(res, 2, needle)
            self.assertEqual(res.stdout, "")
        self.assertFalse(os.path.exists(r.index_path))
        # A network on slirp's subnet and an --outbound one exclude each other.
        r.net_ok("create", "low", "--subnet", "10.0.2.0/28")
        before = r.index_text()
        self.assertExit(r.net("create", "o", "--outbound"), 1,
                        "network low (10.0.2.0/28) overlaps 10.0.2.0/24")
        self.assertExit(r.net("create", "o", "--outbound", "--dry-run"), 1, "network low")
        self.assertEqual(r.index_text(), before)
        self.assertFalse(r.slirp_running())
        r.net_ok("rm", "low")
        r.net_ok("create", "o", "--outbound")
        self.assertExit(r.net("create", "low", "--subnet", "10.0.2.0/28"), 1,
                        "which the --outbound network o uses")
        r.net_ok("create", "p", "--subnet", "10.0.3.0/24")
        # An index written before "outbound" existed loads as not outbound.
        old = {"networks": [{"name": "n", "subnet": "10.44.9.0/24", "gateway": "10.44.9.1",
                             "created_at": "2024-05-06T10:11:12Z", "members": []}]}
        r.net_ok("rm", "o")
        r.net_ok("rm", "p")
        with open(r.index_path, "w") as f:
            json.dump(old, f)
        self.assertEqual(json.loads(r.net_ok("ls", "--json").stdout)[0]["outbound"], False)
        r.net_ok("join", "n", a)
        self.assertEqual(r.index()["networks"][0]["outbound"], False)
        # A wrong type is a corrupt index, reported and left alone.
        bad = r.index_text().replace('"outbound" : false', '"outbound" : "yes"')
        with open(r.index_path, "w") as f:
            f.write(bad)
        self.assertExit(r.net("ls"), 1, 'field "outbound" is not true or false')
        self.assertEqual(r.index_text(), bad)
        with open(r.index_path, "w") as f:
            f.write(bad.replace('"yes"', "false"))


class DryRunOutbound(NetTest):
    def test_outbound_scripts(self):
        r = self.r
        host = HostServer(max_conns=4)
        try:
            a, = self.namespaces("a")
            before = r.snapshot()
            script = r.net_ok("create", "dry", "--outbound", "--subnet", "10.93.0.0/24",
                              "--dry-run").stdout
            self.assertIn("attach --net=slirp", script)
            self.assertEqual(r.snapshot(), before, "--dry-run changed something")
            res = r.sh(script)
            self.assertExit(res, 0)
            self.assertEqual(res.stdout, "10.93.0.0/24\n")
            self.assertTrue(r.inspect("dry")["outbound"])
            self.assertTrue(r.slirp_running())
            r.net_ok("join", "dry", a)
            self.assertTrue(r.reach_host(a, host.port))
            # The live verbs find the slirp running and leave it alone.
            self.assertEqual(r.net("ls").stderr, "")
            script = r.net_ok("rm", "dry", "--force", "--dry-run").stdout
            self.assertIn("stop their slirp", script)
            self.assertExit(r.sh(script), 0)
            self.assertFalse(r.slirp_running())
            self.assertEqual(r.index(), {"networks": []})
            self.assertFalse(r.infra_exists())
            self.assertFalse(r.reach_host(a, host.port, timeout=3))
            self.assertEqual(host.peers, ["127.0.0.1"])
        finally:
            host.close()


if __name__ == "__main__":
    run_tests()
