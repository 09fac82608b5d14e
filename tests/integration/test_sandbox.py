"""The parent's sandbox (docs/security.md), as root and as an unprivileged user.

Once set up, the parent of `npte run` and `npte attach` lives in a private mount
namespace whose read-only root shows only /etc, with PR_SET_NO_NEW_PRIVS, a
seccomp filter and a reduced capability set. Every kind of forward keeps working,
`--no-sandbox` turns it off, and the state dir is still cleaned up at exit.

Traffic stays on the host's loopback and inside namespaces these tests make. The
DNS case needs root (a server on port 53, a private mount namespace): npte runs
under `unshare -m` with an overlay on /etc whose resolv.conf is a symlink out of
/etc to a file naming a fake DNS server on 127.0.0.77/78. As another user the
test checks instead that the sandboxed parent can read /etc/resolv.conf. Some
cases start npte as the unprivileged CI user from a root run (an address only
root can add, root as an API client); run unprivileged, they check what that
user can.
"""
import json
import os
import pwd
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import (NPTE, NSSERVER, Npte, free_port, http_unix, run_tests,  # noqa: E402
                       tcp_exchange, udp_exchange, wait_for, xor)

CI_USER = "npte-ci"
CI_PY = "/usr/bin/python3"     # the unprivileged user may not reach root's interpreter
ROOT = os.getuid() == 0
CAP_NET_BIND_SERVICE, CAP_NET_ADMIN = 10, 12
TEST_V4 = "192.0.2.77"         # TEST-NET-1, added to the host's lo by the root run only


def ci_user_exists():
    try:
        pwd.getpwnam(CI_USER)
        return True
    except KeyError:
        return False


def status(pid):
    """/proc/PID/status as a dict of strings."""
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def mountinfo(pid):
    """(mount point, options) of every mount the process sees."""
    with open("/proc/%d/mountinfo" % pid) as f:
        return [(l.split()[4], l.split()[5]) for l in f]


def parent_of(child_pid):
    return int(status(child_pid)["PPid"])


def host_resolv_conf():
    with open("/etc/resolv.conf", "rb") as f:
        return f.read()


CLIENT = r'''
import socket, struct, sys
def xor(b): return bytes(x ^ 0x5A for x in b)
def tcp(host, port, data):
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(data); s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        d = s.recv(65536)
        if not d: break
        out += d
    return out == xor(data)
def udp(host, port, data):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
    for _ in range(5):
        s.sendto(data, (host, port))
        try: return s.recv(65536) == xor(data)
        except socket.timeout: pass
    return False
def dns(name):
    q = struct.pack("!HHHHHH", 0x5b5b, 0x0100, 1, 0, 0, 0)
    for part in name.split("."): q += bytes([len(part)]) + part.encode()
    q += b"\0" + struct.pack("!HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    for _ in range(5):
        s.sendto(q, ("10.0.2.3", 53))
        try:
            d = s.recv(512)
            return socket.inet_ntoa(d[-4:]) if len(d) > len(q) else "empty"
        except socket.timeout: pass
    return "timeout"
'''


def ns_python(child_pid, code, timeout=30):
    """Run python code in the namespace of npte's child (its user and net namespaces)."""
    r = subprocess.run(["nsenter", "-t", str(child_pid), "-U", "--preserve-credentials", "-n",
                        CI_PY, "-c", CLIENT + code], capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("in-namespace client failed: " + r.stderr)
    return r.stdout.strip()


class HostEcho:
    """TCP and UDP XOR echo on 127.0.0.1 of the host, bounded in clients and time."""

    def __init__(self, lifetime=60, max_clients=50):
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(16)
        self.tcp.settimeout(0.2)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.2)
        self.tport, self.uport = self.tcp.getsockname()[1], self.udp.getsockname()[1]
        self.end = time.monotonic() + lifetime
        self.left = max_clients
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._tcp, self._udp)]
        for t in self.threads:
            t.start()

    def _running(self):
        return not self.stop.is_set() and time.monotonic() < self.end and self.left > 0

    def _tcp(self):
        while self._running():
            try:
                c, _ = self.tcp.accept()
            except socket.timeout:
                continue
            self.left -= 1
            c.settimeout(10)
            data = b""
            while True:
                d = c.recv(65536)
                if not d:
                    break
                data += d
            c.sendall(xor(data))
            c.close()

    def _udp(self):
        while self._running():
            try:
                d, peer = self.udp.recvfrom(65536)
            except socket.timeout:
                continue
            self.left -= 1
            self.udp.sendto(xor(d), peer)

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(5)
        self.tcp.close()
        self.udp.close()


class FakeDNS:
    """Answers every query on HOST:53 with one A record; bounded in time."""

    def __init__(self, host, answer, lifetime=60):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 53))
        self.sock.settimeout(0.2)
        self.answer = socket.inet_aton(answer)
        self.queries = 0
        self.end = time.monotonic() + lifetime
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop.is_set() and time.monotonic() < self.end:
            try:
                q, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            i = 12
            while i < len(q) and q[i] != 0:
                i += q[i] + 1
            question = q[12:i + 5]
            self.queries += 1
            self.sock.sendto(q[:2] + b"\x81\x80" + struct.pack("!HHHH", 1, 1, 0, 0) + question
                             + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + self.answer,
                             peer)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def free_range(n):
    """N consecutive TCP ports free right now, below the ephemeral range (best effort)."""
    import random
    for _ in range(200):
        base = random.randrange(20000, 32000 - n)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free range of %d ports" % n)


class CiNpte:
    """`npte run` as the unprivileged CI user, started from a root test with runuser.

    Readiness is the payload's ready file plus the API socket (no fd crosses runuser).
    """

    def __init__(self, tmp, extra=(), tcp=(), udp=(), report_peer=False):
        self.dir = os.path.join(tmp, "ci")
        os.mkdir(self.dir, 0o700)
        shutil.chown(self.dir, CI_USER, CI_USER)
        os.chmod(tmp, 0o755)
        self.state_dir = os.path.join(self.dir, "state")
        ready = os.path.join(self.dir, "ready")
        cmd = [CI_PY, NSSERVER, "--ready", ready, "--timeout", "60"]
        cmd += sum([["--tcp", t] for t in tcp], []) + sum([["--udp", u] for u in udp], [])
        cmd += ["--report-peer", "--report-peer-udp"] if report_peer else []
        self.proc = subprocess.Popen(["runuser", "-u", CI_USER, "--", NPTE, "run", "--state-dir",
                                      self.state_dir] + list(extra) + ["--"] + cmd,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(ready) or self.proc.poll() is not None, 30, "CI npte")
        if self.proc.poll() is not None:
            raise AssertionError("npte as %s failed: %s" % (CI_USER, self.proc.stderr.read()))
        self.api_sock = os.path.join(self.state_dir, "api.sock")
        with open(os.path.join(self.state_dir, "child_pid")) as f:
            self.child_pid = int(f.read())
        self.pid = parent_of(self.child_pid)

    def close(self):
        if self.proc.poll() is None:
            os.kill(self.pid, 15)
        try:
            self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


class SandboxCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="npte-sandbox-")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.tmp])

    def wait_seccomp(self, pid):
        """The parent confines itself after its ports listen and (run) after START: a
        connection or the payload can come first. Its loop, and --ready-fd, come after."""
        wait_for(lambda: status(pid)["Seccomp"] == "2", 20, "the seccomp filter of %d" % pid)

    def assert_sandboxed(self, pid, rootless=not ROOT):
        """NoNewPrivs, seccomp, the kept capabilities, and a root with only /etc, read-only."""
        self.wait_seccomp(pid)
        st = status(pid)
        self.assertEqual(st["NoNewPrivs"], "1")
        self.assertEqual(st["Seccomp"], "2")
        keep = 1 << CAP_NET_BIND_SERVICE
        if rootless:
            keep |= 1 << CAP_NET_ADMIN   # in the child's user namespace only
        for field in ("CapBnd", "CapEff", "CapPrm"):
            self.assertEqual(int(st[field], 16), keep, field)
        self.assertEqual(int(st["CapInh"], 16), 0)
        self.assertEqual(int(st["CapAmb"], 16), 0)
        root = "/proc/%d/root" % pid
        self.assertEqual(sorted(os.listdir(root)), ["etc"])
        for gone in ("home", "usr", "tmp", "proc"):
            self.assertFalse(os.path.exists(os.path.join(root, gone)), gone)
        for point, opts in mountinfo(pid):
            self.assertIn("ro", opts.split(","), point)
            self.assertTrue(point == "/" or point.startswith("/etc") or point.startswith("/run")
                            or point.startswith(self.tmp), point)
        # libslirp re-reads resolv.conf: the parent sees the host's.
        with open(os.path.join(root, "etc/resolv.conf"), "rb") as f:
            self.assertEqual(f.read(), host_resolv_conf())

    def assert_no_warning(self, err):
        self.assertNotIn("sandbox", err)


class Run(SandboxCase):
    def test_forwards_api_and_exit(self):
        """Published, runtime (TCP, UDP, range) and reverse ports; peers keep their address."""
        t, u = free_port(), free_port(socket.SOCK_DGRAM)
        echo = HostEcho()
        n = Npte(publish=["127.0.0.1:%d:80/tcp" % t, "127.0.0.1:%d:53/udp" % u],
                 tcp=["127.0.0.1:80", "127.0.0.1:81", "127.0.0.1:82", "127.0.0.1:83"],
                 udp=["127.0.0.1:53", "127.0.0.1:54"], report_peer=True, report_peer_udp=True,
                 state_dir=os.path.join(self.tmp, "made-by-npte"))
        try:
            n.wait_ready()
            self.assert_sandboxed(n.proc.pid)
            # Source-address preservation (a loopback alias: bind in the namespace).
            reply, peer = tcp_exchange("127.0.0.1", t, b"hello", read_peer=True)
            self.assertEqual(reply, xor(b"hello"))
            self.assertEqual(peer[:2], ["PEER", "127.0.0.1"])
            s = socket.socket()
            s.bind(("127.0.0.7", 0))
            s.connect(("127.0.0.1", t))
            self.assertEqual(s.makefile("rb").readline().split()[1], b"127.0.0.7")
            s.close()
            self.assertTrue(udp_exchange("127.0.0.1", u, b"dg").endswith(xor(b"dg")))
            # Ports added at run time through the API.
            base = free_range(3)
            rid = n.port("add", "tcp", "127.0.0.1:%d-%d:81-83" % (base, base + 2)).stdout.strip()
            for i in range(3):
                self.assertEqual(tcp_exchange("127.0.0.1", base + i, b"r%d" % i, read_peer=True)[0],
                                 xor(b"r%d" % i))
            u2 = free_port(socket.SOCK_DGRAM)
            n.port("add", "udp", "127.0.0.1:%d:54" % u2)
            self.assertTrue(udp_exchange("127.0.0.1", u2, b"u2").endswith(xor(b"u2")))
            # Reverse ports, one below 1024 inside the namespace (CAP_NET_BIND_SERVICE kept).
            n.port("add", "--reverse", "tcp", "127.0.0.1:%d:5432" % echo.tport)
            n.port("add", "--reverse", "tcp", "127.0.0.1:%d:443" % echo.tport)
            n.port("add", "--reverse", "udp", "127.0.0.1:%d:5353" % echo.uport)
            out = ns_python(n.child_pid(), "print(tcp('127.0.0.1', 5432, b'x' * 70000), "
                            "tcp('127.0.0.1', 443, b'low'), udp('127.0.0.1', 5353, b'u'))")
            self.assertEqual(out, "True True True")
            n.port("rm", rid)
            with self.assertRaises(OSError):
                socket.create_connection(("127.0.0.1", base), timeout=5).close()
            listed = [json.loads(l) for l in n.port("--json", "ls").stdout.splitlines()]
            self.assertEqual(len(listed), 6)
            code, _, err = n.stop()
            self.assertEqual(code, 128 + 15, err)
            self.assert_no_warning(err)
            self.assertFalse(os.path.exists(n.state_dir), "state dir left behind")
        finally:
            echo.close()
            n.__exit__(None, None, None)

    def test_no_sandbox(self):
        port = free_port()
        with Npte(publish=["127.0.0.1:%d:80/tcp" % port], tcp=["127.0.0.1:80"],
                  extra=["--no-sandbox"]) as n:
            st = status(n.proc.pid)
            self.assertEqual((st["NoNewPrivs"], st["Seccomp"]), ("0", "0"))
            self.assertEqual(st["CapBnd"], status(os.getpid())["CapBnd"])
            self.assertIn("usr", os.listdir("/proc/%d/root" % n.proc.pid))
            self.assertEqual(tcp_exchange("127.0.0.1", port, b"plain")[0], xor(b"plain"))
            code, _, err = n.stop()
            self.assertEqual(code, 128 + 15, err)
            self.assertFalse(os.path.exists(n.state_dir))

    def test_exit_cleanup(self):
        """A fresh default dir, a given existing one, a given missing one: clean at exit."""
        env = dict(os.environ, TMPDIR=self.tmp)
        env.pop("XDG_RUNTIME_DIR", None)
        base = os.path.join(self.tmp, "npte-%d" % os.getuid())
        given = os.path.join(self.tmp, "given")
        os.mkdir(given, 0o700)
        cases = [("default", None, base, []), ("given", given, given, []),
                 ("missing", os.path.join(self.tmp, "missing"), self.tmp,
                  sorted(["npte-%d" % os.getuid(), "given"]))]
        for name, sd, where, left in cases:
            with self.subTest(name):
                args = [NPTE, "run"] + (["--state-dir", sd] if sd else []) + ["--", "sleep", "0.3"]
                r = subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)
                self.assertEqual((r.returncode, r.stderr), (0, ""))
                self.assertEqual(sorted(os.listdir(where)), left)

    def test_slirp_outbound_and_port_driver(self):
        """--net=slirp: the namespace reaches the host through libslirp; the slirp port driver."""
        echo = HostEcho()
        t = free_port()
        try:
            with Npte(publish=["127.0.0.1:%d:80/tcp" % t], tcp=["0.0.0.0:80"],
                      extra=["--net=slirp", "--port-driver=slirp"]) as n:
                self.assert_sandboxed(n.proc.pid)
                self.assertEqual(tcp_exchange("127.0.0.1", t, b"via slirp")[0], xor(b"via slirp"))
                t2 = free_port()
                n.port("add", "tcp", "127.0.0.1:%d:80" % t2)
                self.assertEqual(tcp_exchange("127.0.0.1", t2, b"added")[0], xor(b"added"))
                out = ns_python(n.child_pid(), "print(tcp('10.0.2.2', %d, b'out' * 9999), "
                                "udp('10.0.2.2', %d, b'dgram'))" % (echo.tport, echo.uport))
                self.assertEqual(out, "True True")
                code, _, err = n.stop()
                self.assertEqual(code, 128 + 15, err)
                self.assertNotIn("sandbox", err)
        finally:
            echo.close()


class Dns(SandboxCase):
    def test_dns_forwarding_follows_resolv_conf(self):
        """libslirp re-reads resolv.conf from inside the sandbox, through a symlink out of /etc."""
        if not ROOT:
            # No port 53 and no mount namespace of our own: the parent sees resolv.conf.
            with Npte(cmd=["sleep", "30"], extra=["--net=slirp"]) as n:
                with open("/proc/%d/root/etc/resolv.conf" % n.proc.pid, "rb") as f:
                    self.assertEqual(f.read(), host_resolv_conf())
            return
        resolve = os.path.join(self.tmp, "resolve")
        ovl = os.path.join(self.tmp, "ovl")
        os.mkdir(resolve)
        os.mkdir(ovl)
        conf = os.path.join(resolve, "resolv.conf")
        with open(conf, "w") as f:
            f.write("nameserver 127.0.0.77\n")
        a, b = FakeDNS("127.0.0.77", "192.0.2.1"), FakeDNS("127.0.0.78", "192.0.2.2")
        # A mount namespace of the test's: /etc/resolv.conf -> CONF, outside /etc.
        script = ("mount -t tmpfs none {o} && mkdir {o}/up {o}/work && mount -t overlay overlay "
                  "-o lowerdir=/etc,upperdir={o}/up,workdir={o}/work /etc && "
                  "ln -sfn {c} /etc/resolv.conf && exec \"$@\"").format(o=ovl, c=conf)
        sd = os.path.join(self.tmp, "state")
        r, w = os.pipe()
        proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                                 "sh", NPTE, "run", "--state-dir", sd, "--net=slirp", "--ready-fd",
                                 str(w), "--", "sleep", "60"], pass_fds=(w,),
                                stderr=subprocess.PIPE, text=True)
        os.close(w)
        try:
            ready, _, _ = select.select([r], [], [], 20)
            self.assertEqual(os.read(r, 1) if ready else b"", b"1")
            with open(os.path.join(sd, "child_pid")) as f:
                child = int(f.read())
            root = "/proc/%d/root" % proc.pid
            self.assertEqual(os.readlink(root + "/etc/resolv.conf"), conf)
            with open(root + conf) as f:
                self.assertEqual(f.read(), "nameserver 127.0.0.77\n")
            self.assertEqual(ns_python(child, "print(dns('one.sandbox.test'))"),
                             "192.0.2.1")
            # The resolver replaces the file by rename: the bound directory shows the new one.
            with open(conf + ".new", "w") as f:
                f.write("nameserver 127.0.0.78\n")
            os.rename(conf + ".new", conf)
            time.sleep(1.5)   # libslirp checks resolv.conf at most once a second
            self.assertEqual(ns_python(child, "print(dns('two.sandbox.test'))"),
                             "192.0.2.2")
            self.assertEqual((a.queries > 0, b.queries > 0), (True, True))
            proc.terminate()
            _, err = proc.communicate(timeout=15)
            self.assertEqual(proc.returncode, 128 + 15, err)
            self.assertNotIn("sandbox", err)
            self.assertFalse(os.path.exists(sd))
        finally:
            os.close(r)
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
            a.close()
            b.close()


class Attach(SandboxCase):
    def setUp(self):
        super().setUp()
        self.user = None
        self.home = self.tmp   # where the target's ready file and the state dir go

    def as_user(self, user):
        """Run the target and npte attach as USER (from a root run)."""
        self.user = user
        os.chmod(self.tmp, 0o755)
        self.home = os.path.join(self.tmp, "u")
        os.mkdir(self.home, 0o700)
        shutil.chown(self.home, user, user)

    def target(self, unshare_args, port=80):
        """A namespace made with unshare UNSHARE_ARGS, running a TCP server on 127.0.0.1:PORT."""
        ready = os.path.join(self.home, "target-ready")
        os.chmod(self.tmp, 0o755)
        p = subprocess.Popen((["runuser", "-u", self.user, "--"] if self.user else [])
                             + ["unshare"] + unshare_args
                             + [CI_PY, NSSERVER, "--ready", ready, "--timeout", "60", "--tcp",
                                "127.0.0.1:%d" % port])
        wait_for(lambda: os.path.exists(ready) or p.poll() is not None, 20, "target namespace")
        with open(ready) as f:
            pid = int(f.read())

        stopped = []

        def stop():
            # The server itself: under runuser it is not p, and would outlive the test.
            # Once only, so that a pid is never signalled after it may have been reused.
            if stopped:
                return
            stopped.append(True)
            for victim in (pid, p.pid):
                try:
                    os.kill(victim, 9)
                except ProcessLookupError:
                    pass
            p.wait(10)
        self.addCleanup(stop)
        return p, pid, stop

    def attach(self, pid, cport=80):
        """npte attach PID, host port -> CPORT; (process, state dir, host port, parent pid)."""
        sd = os.path.join(self.home, "state")
        port = free_port()
        cmd = [NPTE, "attach", "--state-dir", sd, "--net=none",
               "-p", "127.0.0.1:%d:%d/tcp" % (port, cport), str(pid)]
        if self.user:
            cmd = ["runuser", "-u", self.user, "--"] + cmd
        p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
        self.addCleanup(p.stderr.close)
        self.addCleanup(lambda: p.poll() is None and (p.kill(), p.wait(10)))
        wait_for(lambda: os.path.exists(os.path.join(sd, "child_pid")) or p.poll() is not None,
                 20, "npte attach")
        wait_for(lambda: tcp_ok(port) or p.poll() is not None, 20, "forward")
        with open(os.path.join(sd, "child_pid")) as f:
            return p, sd, port, parent_of(int(f.read()))

    def test_attach_sandboxed(self):
        _, tpid, stop_target = self.target(["-r", "-n"])
        p, sd, port, ppid = self.attach(tpid)
        self.assert_sandboxed(ppid)
        self.assertEqual(tcp_exchange("127.0.0.1", port, b"attached")[0], xor(b"attached"))
        stop_target()
        self.assertEqual(p.wait(15), 0)
        self.assertEqual(p.stderr.read(), "")
        self.assertFalse(os.path.exists(sd))

    def test_attach_unmapped_userns_warns_once(self):
        """A user namespace where npte's uid has no id: no mount sandbox, one warning, the rest on.

        Root could build the sandbox there anyway (it needs no user namespace), so a root
        run checks this as the CI user.
        """
        if ROOT:
            if not ci_user_exists():
                self.fail("user %s is missing (tests/run-all.sh creates it)" % CI_USER)
            self.as_user(CI_USER)
        # No id map: the server there has no capability (port 8080, not 80).
        _, tpid, _ = self.target(["-U", "-n"], 8080)
        p, sd, port, ppid = self.attach(tpid, 8080)
        self.wait_seccomp(ppid)
        st = status(ppid)
        self.assertEqual((st["NoNewPrivs"], st["Seccomp"]), ("1", "2"))
        self.assertIn("usr", os.listdir("/proc/%d/root" % ppid))
        self.assertEqual(tcp_exchange("127.0.0.1", port, b"fallback")[0], xor(b"fallback"))
        os.kill(ppid, 15)
        self.assertEqual(p.wait(15), 0)
        err = p.stderr.read()
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn("warning: sandbox incomplete: no private file system view", err)
        self.assertFalse(os.path.exists(sd))


def tcp_ok(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


class RootlessFromRoot(SandboxCase):
    """Rootless npte, driven from a root run: what only root can set up around it."""

    def test_rootless(self):
        if not ROOT:
            # Unprivileged, the other cases already ran rootless; here: our own peer check.
            with Npte(cmd=["sleep", "30"]) as n:
                status_, _, _ = http_unix(n.api_sock, "GET", "/v1/info")
                self.assertEqual(status_, 200)
            return
        if not ci_user_exists():
            self.fail("user %s is missing (tests/run-all.sh creates it)" % CI_USER)
        subprocess.run(["ip", "addr", "add", TEST_V4 + "/32", "dev", "lo"], check=True)
        n = m = None
        try:
            port = free_port()
            n = CiNpte(self.tmp, extra=["-p", "%d:80/tcp" % port], tcp=["127.0.0.1:80"],
                       report_peer=True)
            self.assert_sandboxed(n.pid, rootless=True)
            # IP_TRANSPARENT on the namespace socket: CAP_NET_ADMIN in the child's user namespace.
            s = socket.socket()
            s.settimeout(10)
            s.bind((TEST_V4, 0))
            s.connect((TEST_V4, port))
            self.assertEqual(s.makefile("rb").readline().split()[1], TEST_V4.encode())
            s.close()
            # Seen through the child's id map, root is an unmapped uid: refused (docs/security.md).
            code, _, body = http_unix(n.api_sock, "GET", "/v1/info")
            self.assertEqual(code, 403, body)
            n.close()
            self.assertFalse(os.path.exists(n.state_dir))
            second = os.path.join(self.tmp, "second")
            os.mkdir(second)   # CiNpte made self.tmp traversable
            m = CiNpte(second, extra=["--no-sandbox"], tcp=["127.0.0.1:80"])
            self.assertEqual(http_unix(m.api_sock, "GET", "/v1/info")[0], 200)
        finally:
            for x in (n, m):
                if x is not None:
                    x.close()
            subprocess.run(["ip", "addr", "del", TEST_V4 + "/32", "dev", "lo"])


if __name__ == "__main__":
    run_tests()
