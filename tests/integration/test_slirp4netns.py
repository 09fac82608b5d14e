"""npte as a drop-in for slirp4netns: its command line, start-up lines, ready/exit fds,
the JSON API socket, and rootlesskit (Debian's, unchanged) driving npte-slirp4netns.

Targets are namespaces the test makes (`unshare -r -n`, bounded in time); traffic goes only
to 127.0.0.0/8, ::1, or addresses inside those namespaces (10.0.2.2 from inside is the
host's loopback through slirp). When run as root, the rootlesskit cases run as the
unprivileged user npte-ci (rootlesskit refuses root without subuid ranges).
"""
import json
import os
import pwd
import re
import select
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
from npte_test import (NPTE, NSSERVER, PY, free_port, run_tests, tcp_exchange,  # noqa: E402
                       udp_exchange, wait_for, xor)

S4N = os.environ.get("NPTE_SLIRP4NETNS") or os.path.join(os.path.dirname(os.path.abspath(NPTE)),
                                                         "npte-slirp4netns")
CI_USER = "npte-ci"
# Payloads under rootlesskit run as CI_USER when we are root: the system python, not ours.
RK_PY = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else PY
IS_ROOT = os.getuid() == 0

STARTUP = (
    "Starting slirp\n"
    "* MTU:             {mtu}\n"
    "* Network:         10.0.2.0\n"
    "* Netmask:         255.255.255.0\n"
    "* Gateway:         10.0.2.2\n"
    "* DNS:             10.0.2.3\n"
    "* DHCP begin:      10.0.2.15\n"
    "* DHCP end:        10.0.2.30\n"
    "* Recommended IP:  10.0.2.100\n"
)


def bad(field):
    return b'{"error":{"desc":"bad request: add_hostfwd: bad arguments.%s"}}' % field.encode()


def err(desc):
    return b'{"error":{"desc":"bad request: %s"}}' % desc.encode()


def add_req(**args):
    return json.dumps({"execute": "add_hostfwd", "arguments": args}).encode()


class Target:
    """A user+net namespace made by `unshare -r -n`: sleep 60, or nsserver.py when given servers."""

    def __init__(self, tcp=(), udp=(), seconds=60):
        self.tmp = tempfile.mkdtemp(prefix="npte-s4n-")
        if not tcp and not udp:
            self.proc = subprocess.Popen(["unshare", "-r", "-n", "sleep", str(seconds)])
            self.pid = self.proc.pid
            wait_for(lambda: os.readlink("/proc/%d/ns/net" % self.pid)
                     != os.readlink("/proc/self/ns/net"), 10, "the target's namespace")
            return
        ready = os.path.join(self.tmp, "ready")
        cmd = ["unshare", "-r", "-n", PY, NSSERVER, "--ready", ready, "--timeout", str(seconds)]
        for t in tcp:
            cmd += ["--tcp", t]
        for u in udp:
            cmd += ["--udp", u]
        self.proc = subprocess.Popen(cmd)
        wait_for(lambda: os.path.exists(ready), 20, "target namespace server")
        with open(ready) as f:
            self.pid = int(f.read())

    def ns(self, *cmd, check=True):
        """Run cmd in the target's network namespace (joining its user namespace unless root)."""
        pre = ["nsenter", "-t", str(self.pid), "-n"]
        if not IS_ROOT:
            pre += ["-U", "--preserve-credentials"]
        r = subprocess.run(pre + list(cmd), capture_output=True, text=True, timeout=30)
        if check and r.returncode != 0:
            raise AssertionError("%s in the namespace failed: %s" % (cmd, r.stderr))
        return r

    def link(self, name):
        return json.loads(self.ns("ip", "-j", "addr", "show", "dev", name).stdout)[0]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        shutil.rmtree(self.tmp, ignore_errors=True)


class S4n:
    """npte-slirp4netns in the background with -r and -e pipes, as rootlesskit and Podman run it."""

    def __init__(self, args, argv0=S4N):
        self.ready_r, ready_w = os.pipe()
        exit_r, self.exit_w = os.pipe()
        self.proc = subprocess.Popen([argv0, "-r", str(ready_w), "-e", str(exit_r)] + list(args),
                                     pass_fds=(ready_w, exit_r), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        os.close(ready_w)
        os.close(exit_r)

    def wait_ready(self, timeout=20):
        rl, _, _ = select.select([self.ready_r], [], [], timeout)
        if not rl:
            self.proc.kill()
            raise AssertionError("not ready in %ss: %s" % (timeout, self.proc.communicate()))
        data = os.read(self.ready_r, 16)
        if data != b"1":
            raise AssertionError("ready fd said %r: %s" % (data, self.proc.communicate(timeout=10)))
        return self

    def stop(self, timeout=15):
        """Close the exit fd (a clean exit); return (rc, stdout, stderr)."""
        os.close(self.exit_w)
        self.exit_w = None
        out, errs = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, errs

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)
        for fd in (self.ready_r, self.exit_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.ready_r = self.exit_w = None


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def api(path, req, shutdown=True, timeout=15):
    """One request on the slirp4netns API socket; the whole reply."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall(req)
    if shutdown:
        s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    return data


class Slirp4netnsCli(unittest.TestCase):
    def run_s4n(self, *args, argv0=S4N):
        return subprocess.run([argv0] + list(args), capture_output=True, text=True, timeout=20)

    def test_help_and_version(self):
        r = self.run_s4n("--help")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("Usage: "), r.stdout)
        # What rootlesskit and Podman look for in --help to detect features ...
        for opt in ("--netns-type", "--enable-ipv6", "--cidr", "--disable-host-loopback",
                    "--api-socket", "--mtu", "--outbound-addr", "--disable-dns", "--userns-path",
                    "--configure", "--exit-fd", "--ready-fd", "--macaddress"):
            self.assertIn(opt, r.stdout)
        # ... and what they must not find, since npte fails on it.
        self.assertNotIn("--enable-sandbox", r.stdout)
        self.assertNotIn("--enable-seccomp", r.stdout)
        r = self.run_s4n("-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertRegex(lines[0], r"^slirp4netns version 1\.3\.\d+\+npte\.\d+\.\d+\.\d+$")
        self.assertRegex(lines[1], r"^commit: \S+$")
        self.assertRegex(lines[2], r"^libslirp: 4\.\d+\.\d+$")
        self.assertRegex(lines[3], r"^SLIRP_CONFIG_VERSION_MAX: \d+$")
        self.assertEqual(len(lines), 4)

    def test_names(self):
        """npte slirp4netns, npte-slirp4netns and a symlink named slirp4netns are the same."""
        expect = self.run_s4n("--version").stdout
        r = subprocess.run([NPTE, "slirp4netns", "--version"], capture_output=True, text=True,
                           timeout=20)
        self.assertEqual((r.returncode, r.stdout), (0, expect))
        tmp = tempfile.mkdtemp(prefix="npte-s4n-name-")
        try:
            link = os.path.join(tmp, "slirp4netns")
            os.symlink(os.path.abspath(NPTE), link)
            r = self.run_s4n("-v", argv0=link)
            self.assertEqual((r.returncode, r.stdout), (0, expect))
            r = self.run_s4n("--bogus-option", argv0=link)
            self.assertEqual(r.returncode, 1)
            self.assertIn("Usage: " + link, r.stdout)
        finally:
            shutil.rmtree(tmp)

    def test_usage_errors(self):
        """Bad command lines exit 1 as slirp4netns, with the reason on stderr."""
        cases = [
            ([], "missing PID or PATH"),
            (["abc", "tap0"], "PID must be a positive integer"),
            (["0", "tap0"], "PID must be a positive integer"),
            (["-e", "x", "1", "tap0"], "exit-fd must be a non-negative integer"),
            (["-r", "-1", "1", "tap0"], "ready-fd must be a non-negative integer"),
            (["-m", "70000", "1", "tap0"], "MTU must be an integer in 68..65521"),
            (["-m", "abc", "1", "tap0"], "MTU must be an integer"),
            (["--macaddress", "02:00:00:00:00:01", "1", "tap0"],
             "--macaddr cannot be specified when --configure or -c is not specified"),
            (["--netns-type=path", "/nonexistent/netns", "tap0"], "existing path expected"),
            (["--netns-type=bogus", "1", "tap0"], "--netns-type must be pid, path or tapfd"),
            (["--userns-path=/nonexistent/userns", "1", "tap0"], "userns path doesn't exist"),
            (["--target-type=vde", "1", "tap0"], "--target-type must be either"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                r = self.run_s4n(*args)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(needle, r.stderr)
                self.assertTrue(r.stdout.startswith("Usage: "), r.stdout)

    def test_unsupported_fail_clearly(self):
        """Options npte cannot honour exit 1 naming the option, instead of being ignored."""
        cases = [
            (["--enable-sandbox", "1", "tap0"], "--enable-sandbox is not supported"),
            (["--create-sandbox", "1", "tap0"], "--create-sandbox is not supported"),
            (["--enable-seccomp", "1", "tap0"], "--enable-seccomp is not supported"),
            (["--netns-type=tapfd", "0"], "--netns-type=tapfd is not supported"),
            (["--target-type=bess", "/tmp/x"], "--target-type=bess"),
            (["-c", "--macaddress", "01:00:00:00:00:01", "1", "tap0"], "multicast"),
            (["--cidr", "10.0.2.100/24", "1", "tap0"], "host bits are set"),
            (["--outbound-addr", "no-such-if0", "1", "tap0"], "neither an IPv4 address"),
            (["1", "bad/name"], "invalid TAPNAME"),
        ]
        for args, needle in cases:
            with self.subTest(args=args):
                r = self.run_s4n(*args)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(needle, r.stderr)
                self.assertEqual(r.stderr.count("error:"), 1, r.stderr)


class Slirp4netnsRun(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="npte-s4n-run-")
        self.sock = os.path.join(self.tmp, "api.sock")
        self.cleanups = []

    def tearDown(self):
        for c in reversed(self.cleanups):
            c()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def target(self, **kw):
        t = Target(**kw)
        self.cleanups.append(t.close)
        return t

    def s4n(self, *args):
        s = S4n(args)
        self.cleanups.append(s.kill)
        return s.wait_ready()

    def test_configure(self):
        """-c: lo and the TAP up, MTU, MAC, 10.0.2.100/24, default route; the start-up lines."""
        t = self.target()
        s = self.s4n("-c", "--mtu", "65520", "--macaddress", "02:11:22:33:44:55", "-a", self.sock,
                     str(t.pid), "tap0")
        self.assertTrue(os.path.exists(self.sock), "the API socket is up before ready")
        tap = t.link("tap0")
        self.assertEqual(tap["mtu"], 65520)
        self.assertEqual(tap["address"], "02:11:22:33:44:55")
        self.assertIn("UP", tap["flags"])
        v4 = [(a["local"], a["prefixlen"]) for a in tap["addr_info"] if a["family"] == "inet"]
        self.assertEqual(v4, [("10.0.2.100", 24)])
        self.assertIn("UP", t.link("lo")["flags"])
        routes = json.loads(t.ns("ip", "-j", "route", "show", "default").stdout)
        self.assertEqual([(r["gateway"], r["dev"]) for r in routes], [("10.0.2.2", "tap0")])
        rc, out, errs = s.stop()
        self.assertEqual(rc, 0, errs)
        self.assertEqual(out, STARTUP.format(mtu=65520)
                         + "* API Socket:      %s\n" % self.sock
                         + "* MAC address:     02:11:22:33:44:55\n"
                         + "WARNING: 127.0.0.1:* on the host is accessible as 10.0.2.2 (set "
                         "--disable-host-loopback to prohibit connecting to 127.0.0.1:*)\n")
        self.assertFalse(os.path.exists(self.sock), "the API socket is removed at exit")
        self.assertIsNone(t.proc.poll(), "the target survives")

    def test_no_configure_then_outbound(self):
        """Without -c the TAP is only created (the caller configures it, as rootlesskit does);
        once configured, the namespace reaches the host's loopback through 10.0.2.2."""
        t = self.target()
        s = self.s4n("--cidr", "10.0.2.0/24", str(t.pid))  # TAPNAME defaults to tap0
        tap = t.link("tap0")
        self.assertNotIn("UP", tap["flags"])
        self.assertEqual([a for a in tap["addr_info"] if a["family"] == "inet"], [])
        self.assertEqual(tap["mtu"], 1500)
        self.assertNotIn("UP", t.link("lo")["flags"], "lo is left alone without -c")
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "set", "tap0", "up"],
                    ["ip", "addr", "add", "10.0.2.100/24", "dev", "tap0"],
                    ["ip", "route", "add", "default", "via", "10.0.2.2"]):
            t.ns(*cmd)
        with HostEcho() as host:
            r = t.ns(PY, "-c", CLIENT, "10.0.2.2", str(host.port), "outbound")
            self.assertEqual(r.stdout.strip(), xor(b"outbound").hex(), r.stderr)
        rc, out, errs = s.stop()
        self.assertEqual(rc, 0, errs)
        self.assertTrue(out.startswith(STARTUP.format(mtu=1500)), out)
        self.assertNotIn("API Socket", out)

    def test_disable_host_loopback(self):
        t = self.target()
        s = self.s4n("-c", "--disable-host-loopback", str(t.pid), "tap0")
        with HostEcho() as host:
            r = t.ns(PY, "-c", CLIENT, "10.0.2.2", str(host.port), "blocked", check=False)
            self.assertNotEqual(r.returncode, 0, "10.0.2.2 must not reach the host's loopback")
        rc, out, errs = s.stop()
        self.assertEqual(rc, 0, errs)
        self.assertNotIn("WARNING", out)

    def test_netns_path_and_userns_path(self):
        t = self.target()
        s = self.s4n("-c", "--netns-type=path", "--userns-path=/proc/%d/ns/user" % t.pid,
                     "/proc/%d/ns/net" % t.pid, "tap1")
        v4 = [a["local"] for a in t.link("tap1")["addr_info"] if a["family"] == "inet"]
        self.assertEqual(v4, ["10.0.2.100"])
        self.assertEqual(s.stop()[0], 0)

    def test_target_exit_ends_it(self):
        t = self.target()
        s = self.s4n("-c", str(t.pid), "tap0")
        t.proc.kill()
        t.proc.wait(10)
        self.assertEqual(s.proc.wait(15), 0)

    def test_api_forwarding(self):
        """add_hostfwd / list_hostfwd / remove_hostfwd, with traffic through the forwards."""
        t = self.target(tcp=["0.0.0.0:80"], udp=["0.0.0.0:53"])
        s = self.s4n("-c", "-a", self.sock, str(t.pid), "tap0")
        p, u = free_port(), free_port(socket.SOCK_DGRAM)
        self.assertEqual(api(self.sock, add_req(proto="tcp", host_addr="127.0.0.1", host_port=p,
                                                guest_port=80)), b'{"return":{"id":1}}')
        self.assertEqual(api(self.sock, add_req(proto="udp", host_addr="127.0.0.1", host_port=u,
                                                guest_addr="10.0.2.100", guest_port=53)),
                         b'{"return":{"id":2}}')
        self.assertEqual(tcp_exchange("127.0.0.1", p, b"via the api")[0], xor(b"via the api"))
        self.assertEqual(udp_exchange("127.0.0.1", u, b"dgram"), xor(b"dgram"))
        expect = ('{"entries":[{"id":1,"proto":"tcp","host_addr":"127.0.0.1","host_port":%d,'
                  '"guest_addr":"10.0.2.100","guest_port":80},{"id":2,"proto":"udp","host_addr":'
                  '"127.0.0.1","host_port":%d,"guest_addr":"10.0.2.100","guest_port":53}]}'
                  % (p, u)).encode()
        self.assertEqual(api(self.sock, b'{"execute":"list_hostfwd"}'), expect)
        # The same forward twice: libslirp's bind fails, answered as slirp4netns does.
        self.assertEqual(api(self.sock, add_req(proto="tcp", host_addr="127.0.0.1", host_port=p,
                                                guest_port=80)),
                         err("add_hostfwd: slirp_add_hostfwd failed"))
        self.assertEqual(api(self.sock, b'{"execute":"remove_hostfwd","arguments":{"id":1}}'),
                         b'{"return":{}}')
        self.assertEqual(api(self.sock, b'{"execute":"remove_hostfwd","arguments":{"id":1}}'),
                         err("remove_hostfwd: bad arguments.id"))
        with self.assertRaises(OSError):
            tcp_exchange("127.0.0.1", p, b"gone", timeout=5)
        # Ids are never reused.
        self.assertEqual(api(self.sock, add_req(proto="tcp", host_port=p, guest_port=80)),
                         b'{"return":{"id":3}}')
        self.assertEqual(tcp_exchange("127.0.0.1", p, b"again")[0], xor(b"again"))
        self.assertEqual(s.stop()[0], 0)

    def test_api_errors(self):
        """The slirp4netns error texts; missing fields and wrong types never crash npte."""
        t = self.target()
        s = self.s4n("-c", "-a", self.sock, str(t.pid), "tap0")
        p = free_port()
        cases = [
            (b'{"execute":"bad"}', err("unknown execute")),
            (b'{"arguments":{}}', err("no execute found")),
            (b'{"execute":42}', err("no execute found")),
            (b'not json', err("cannot parse JSON")),
            (b'', err("cannot parse JSON")),
            (b'[1,2]', err("json_object() failed")),
            (b'{"execute":"add_hostfwd"}', bad("proto")),
            (add_req(host_port=p, guest_port=80), bad("proto")),
            (add_req(proto="sctp", host_port=p, guest_port=80), bad("proto")),
            (add_req(proto=6, host_port=p, guest_port=80), bad("proto")),
            (add_req(proto="tcp", host_addr="999.1.1.1", host_port=p, guest_port=80),
             bad("host_addr")),
            (add_req(proto="tcp", host_addr=127, host_port=p, guest_port=80), bad("host_addr")),
            (add_req(proto="tcp", host_addr="::1", host_port=p, guest_port=80),
             bad("host_addr")),  # IPv6 needs -6
            (add_req(proto="tcp", guest_port=80), bad("host_port")),
            (add_req(proto="tcp", host_port="8080", guest_port=80), bad("host_port")),
            (add_req(proto="tcp", host_port=70000, guest_port=80), bad("host_port")),
            (add_req(proto="tcp", host_port=80.5, guest_port=80), bad("host_port")),
            (add_req(proto="tcp", host_port=p, guest_addr="bogus", guest_port=80),
             bad("guest_addr")),
            (add_req(proto="tcp", host_port=p, guest_addr="127.0.0.1", guest_port=80),
             bad("guest_addr")),
            (add_req(proto="tcp", host_port=p, guest_addr="fd00::100", guest_port=80),
             bad("guest_addr")),  # IPv6 in the namespace needs -6 and an IPv6 host address
            (add_req(proto="tcp", host_port=p), bad("guest_port")),
            (add_req(proto="tcp", host_port=p, guest_port=0), bad("guest_port")),
            (add_req(proto="tcp", host_port=p, guest_port=[80]), bad("guest_port")),
            (b'{"execute":"remove_hostfwd"}', err("remove_hostfwd: bad arguments.id")),
            (b'{"execute":"remove_hostfwd","arguments":{"id":"1"}}',
             err("remove_hostfwd: bad arguments.id")),
            (b'{"execute":"remove_hostfwd","arguments":{"id":99}}',
             err("remove_hostfwd: bad arguments.id")),
            # slirp4netns' limit: 4095 bytes are a request, 4096 are too many.
            (b'{"execute":"list_hostfwd","x":' + b' ' * 4063 + b'1}', b'{"entries":[]}'),
            (b'{"execute":"list_hostfwd","x":' + b' ' * 4064 + b'1}', err("too large message")),
            (b'x' * (1 << 20), err("too large message")),
        ]
        for req, reply in cases:
            with self.subTest(req=req[:80]):
                self.assertEqual(api(self.sock, req), reply)
        self.assertEqual(api(self.sock, b'{"execute":"list_hostfwd"}'), b'{"entries":[]}')
        self.assertEqual(s.stop()[0], 0)

    def test_api_extensions(self):
        """IPv6 forwards with -6, and host_port 0 (npte extensions)."""
        t = self.target(tcp=["0.0.0.0:80", "[::]:80"])
        s = self.s4n("-c", "-6", "-a", self.sock, str(t.pid), "tap0")
        p = free_port(family=socket.AF_INET6)
        # The guest address defaults to fd00::100, which -c -6 gives the TAP.
        self.assertEqual(api(self.sock, add_req(proto="tcp", host_addr="::1", host_port=p,
                                                guest_port=80)), b'{"return":{"id":1}}')
        self.assertEqual(tcp_exchange("::1", p, b"v6")[0], xor(b"v6"))
        reply = json.loads(api(self.sock, add_req(proto="tcp", host_addr="127.0.0.1",
                                                  host_port=0, guest_port=80)))
        self.assertEqual(reply["return"]["id"], 2)
        auto = reply["return"]["host_port"]
        self.assertEqual(tcp_exchange("127.0.0.1", auto, b"port 0")[0], xor(b"port 0"))
        # IPv4 and IPv6 forwards on one port number coexist.
        self.assertEqual(api(self.sock, add_req(proto="tcp", host_addr="::1", host_port=auto,
                                                guest_addr="fd00::100", guest_port=80)),
                         b'{"return":{"id":3}}')
        self.assertEqual(tcp_exchange("::1", auto, b"both")[0], xor(b"both"))
        # libslirp cannot forward across families.
        self.assertEqual(api(self.sock, add_req(proto="tcp", host_addr="::1", host_port=p + 1,
                                                guest_addr="10.0.2.100", guest_port=80)),
                         bad("guest_addr"))
        listing = json.loads(api(self.sock, b'{"execute":"list_hostfwd"}'))["entries"]
        self.assertEqual([(e["host_addr"], e["host_port"], e["guest_addr"]) for e in listing],
                         [("::1", p, "fd00::100"), ("127.0.0.1", auto, "10.0.2.100"),
                          ("::1", auto, "fd00::100")])
        self.assertEqual(s.stop()[0], 0)

    def test_api_clients_cannot_stall_it(self):
        """A client that never shuts down is answered once its JSON is whole; idle and
        half-sent connections neither block others nor the network, and time out."""
        t = self.target(tcp=["0.0.0.0:80"])
        s = self.s4n("-c", "-a", self.sock, str(t.pid), "tap0")
        p = free_port()
        self.assertEqual(api(self.sock, add_req(proto="tcp", host_port=p, guest_port=80),
                             shutdown=False), b'{"return":{"id":1}}')
        idle = []
        for _ in range(70):  # more than the server's connection limit
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(self.sock)
            idle.append(c)
        idle[0].sendall(b'{"execute":"list_hos')
        start = time.monotonic()
        self.assertEqual(tcp_exchange("127.0.0.1", p, b"not stalled")[0], xor(b"not stalled"))
        self.assertLess(time.monotonic() - start, 3)
        # The half-sent request is answered at the deadline (5 s), then closed.
        idle[0].settimeout(15)
        self.assertEqual(idle[0].recv(4096), err("cannot parse JSON"))
        # Once idle ones time out, waiting clients are served.
        self.assertEqual(api(self.sock, b'{"execute":"list_hostfwd"}', timeout=30)[:12],
                         b'{"entries":[')
        for c in idle:
            c.close()
        self.assertEqual(s.stop()[0], 0)


CLIENT = r"""
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(sys.argv[3].encode()); s.shutdown(socket.SHUT_WR)
d = b""
while True:
    x = s.recv(65536)
    if not x: break
    d += x
print(d.hex())
"""


class HostEcho:
    """A host TCP server on 127.0.0.1 answering each connection with the XOR of its bytes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(60)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with c:
                c.settimeout(10)
                data = b""
                try:
                    while True:
                        d = c.recv(65536)
                        if not d:
                            break
                        data += d
                    c.sendall(xor(data))
                except OSError:
                    pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()


class RootlessKit(unittest.TestCase):
    """Debian's rootlesskit, unchanged, with --slirp4netns-binary=npte-slirp4netns.

    rootlesskit needs an unprivileged user with subuid ranges: as root, it runs as npte-ci
    on copies of the binaries in a directory that user can read.
    """

    @classmethod
    def setUpClass(cls):
        if IS_ROOT:
            try:
                pwd.getpwnam(CI_USER)
            except KeyError:
                raise AssertionError("as root, the rootlesskit cases run as %s, with subuid and "
                                     "subgid ranges: create that user (tests/run-all.sh does)"
                                     % CI_USER)
        cls.tmp = tempfile.mkdtemp(prefix="npte-s4n-rk-")
        npte = os.path.realpath(NPTE)
        shutil.copy(npte, os.path.join(cls.tmp, "npte"))
        # The launcher loads its module from next to itself (src/npte-launch.c).
        shutil.copy(os.path.join(os.path.dirname(npte), "npte-cli.so"),
                    os.path.join(cls.tmp, "npte-cli.so"))
        os.symlink("npte", os.path.join(cls.tmp, "npte-slirp4netns"))
        shutil.copy(NSSERVER, os.path.join(cls.tmp, "nsserver.py"))
        os.chmod(cls.tmp, 0o755)
        if IS_ROOT:
            pw = pwd.getpwnam(CI_USER)
            for name in ("", "npte", "npte-cli.so", "nsserver.py"):
                os.chown(os.path.join(cls.tmp, name), pw.pw_uid, pw.pw_gid)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def rootlesskit(self, args, payload, wait_ready=None):
        state = tempfile.mkdtemp(prefix="rk-", dir=self.tmp)
        if IS_ROOT:
            os.chown(state, *pwd.getpwnam(CI_USER)[2:4])
        cmd = ["rootlesskit", "--state-dir", os.path.join(state, "s"), "--net=slirp4netns",
               "--slirp4netns-binary=" + os.path.join(self.tmp, "npte-slirp4netns")]
        cmd += list(args) + ["--"] + list(payload)
        if IS_ROOT:
            cmd = ["runuser", "-u", CI_USER, "--", "env", "HOME=" + state] + cmd
        env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, env=env, cwd=self.tmp)
        self.addCleanup(self.stop, proc)
        return proc

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate(timeout=10)

    def serve_through(self, port_driver):
        ready = os.path.join(self.tmp, "ready-" + port_driver)
        port = free_port()
        proc = self.rootlesskit(
            ["--port-driver=" + port_driver, "--disable-host-loopback",
             "-p", "127.0.0.1:%d:80/tcp" % port],
            [RK_PY, os.path.join(self.tmp, "nsserver.py"), "--ready", ready, "--timeout", "60",
             "--tcp", "0.0.0.0:80"])
        try:
            wait_for(lambda: os.path.exists(ready) or proc.poll() is not None, 30,
                     "rootlesskit's payload")
        except AssertionError:
            self.stop(proc)
            raise AssertionError("rootlesskit did not start: %s" % (proc.communicate(),))
        if proc.poll() is not None:
            self.fail("rootlesskit exited: %s" % (proc.communicate(),))
        # rootlesskit publishes -p ports after it started the payload: wait for the port.
        try:
            wait_for(lambda: port_open(port) or proc.poll() is not None, 20, "the published port")
        except AssertionError:
            self.stop(proc)
            raise AssertionError("port %d not published: %s" % (port, proc.communicate(),))
        if proc.poll() is not None:
            self.fail("rootlesskit exited: %s" % (proc.communicate(),))
        for i in range(3):
            msg = b"rootlesskit %s %d" % (port_driver.encode(), i)
            self.assertEqual(tcp_exchange("127.0.0.1", port, msg)[0], xor(msg))
        return proc

    def test_port_driver_slirp4netns(self):
        self.serve_through("slirp4netns")

    def test_port_driver_builtin(self):
        self.serve_through("builtin")

    def test_host_loopback_through_gateway(self):
        with HostEcho() as host:
            proc = self.rootlesskit([], [RK_PY, "-c", CLIENT, "10.0.2.2", str(host.port), "gw"])
            out, errs = proc.communicate(timeout=60)
            self.assertEqual(proc.returncode, 0, errs)
            self.assertEqual(out.strip(), xor(b"gw").hex())


if __name__ == "__main__":
    run_tests()
