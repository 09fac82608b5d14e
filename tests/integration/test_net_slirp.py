"""--net=slirp: the TAP device in the namespace, libslirp in the parent, outbound traffic,
and the validation of the network options, with real traffic.

Traffic only goes to the host's loopback (127.0.0.0/8, ::1) and to addresses
inside the namespaces these tests create: from inside, the gateway (10.0.2.2,
fd00::2, or the --cidr/--cidr6 equivalents) is libslirp's name for the host's
loopback. DNS forwarding itself is not exercised, since a query to 10.0.2.3
would leave the machine; only the resolv.conf that names it is checked.
The slirp port driver is tested in test_slirp_ports.py.

Every server here is bounded in connections and in time, and every npte run
is bounded by a timeout.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from slirp_helpers import *  # noqa: E402,F401,F403


class NamespaceSetup(unittest.TestCase):
    def test_defaults(self):
        before = host_resolv_conf()
        r, err = ns_run([], """
R["links"] = sorted(os.listdir("/sys/class/net"))
R["addr"] = ifaddr4("tap0")
R["mtu"] = sysfs("tap0", "mtu")
R["operstate_flags"] = int(sysfs("tap0", "flags"), 16) & 1
R["routes"] = routes4()
R["v6"] = ifaddr6("tap0")
R["default6"] = default6()
R["resolv"] = read("/etc/resolv.conf")
""")
        self.assertEqual(r["links"], ["lo", "tap0"])
        self.assertEqual(r["addr"], ["10.0.2.100", "255.255.255.0"])
        self.assertEqual(r["mtu"], "65520")
        self.assertEqual(r["operstate_flags"], 1, "tap0 is not up")
        self.assertEqual(r["routes"], [["tap0", "0.0.0.0", "10.0.2.2", "0.0.0.0"],
                                       ["tap0", "10.0.2.0", "0.0.0.0", "255.255.255.0"]])
        # Without --ipv6: only the kernel's link-local address (scope 0x20).
        self.assertEqual([a for a in r["v6"] if a[2] != 0x20], [])
        self.assertEqual(r["default6"], [])
        self.assertEqual(r["resolv"], "nameserver 10.0.2.3\n")
        # The bind mount stayed in the namespace's mount table.
        self.assertEqual(host_resolv_conf(), before)
        # Exactly one warning, naming the gateway.
        self.assertEqual(warnings_about_loopback(err), [WARNING % "10.0.2.2"])

    def test_ifname_mac_mtu(self):
        r, _ = ns_run(["--ifname", "slirp0", "--mac", "02:11:22:33:44:5a", "--mtu", "1500"], """
R["links"] = sorted(os.listdir("/sys/class/net"))
R["mac"] = sysfs("slirp0", "address")
R["mtu"] = sysfs("slirp0", "mtu")
R["addr"] = ifaddr4("slirp0")
R["routes"] = routes4()
""")
        self.assertEqual(r["links"], ["lo", "slirp0"])
        self.assertEqual(r["mac"], "02:11:22:33:44:5a")
        self.assertEqual(r["mtu"], "1500")
        self.assertEqual(r["addr"], ["10.0.2.100", "255.255.255.0"])
        self.assertEqual(r["routes"][0], ["slirp0", "0.0.0.0", "10.0.2.2", "0.0.0.0"])

    def test_mtu_limits_accepted(self):
        for mtu in ("68", "65521"):
            with self.subTest(mtu=mtu):
                r, _ = ns_run(["--mtu", mtu], 'R["mtu"] = sysfs("tap0", "mtu")')
                self.assertEqual(r["mtu"], mtu)

    def test_cidr(self):
        with HostTCPServer() as srv:
            r, err = ns_run(["--cidr", "10.9.0.0/24"], """
R["addr"] = ifaddr4("tap0")
R["routes"] = routes4()
R["resolv"] = read("/etc/resolv.conf")
R["tcp"] = tcp("10.9.0.2", %d, b"cidr" * 1000)
""" % srv.port)
            conns = srv.finished()
        self.assertEqual(r["addr"], ["10.9.0.100", "255.255.255.0"])
        self.assertEqual(r["routes"], [["tap0", "0.0.0.0", "10.9.0.2", "0.0.0.0"],
                                       ["tap0", "10.9.0.0", "0.0.0.0", "255.255.255.0"]])
        self.assertEqual(r["resolv"], "nameserver 10.9.0.3\n")
        self.assertEqual(r["tcp"]["reply_len"], 4000)
        self.assertTrue(r["tcp"]["reply_ok"])
        self.assertEqual([(c["bytes"], c["sha256"]) for c in conns],
                         [(4000, r["tcp"]["sent_sha256"])])
        self.assertEqual(warnings_about_loopback(err), [WARNING % "10.9.0.2"])

    def test_cidr_wider_prefix(self):
        r, _ = ns_run(["--cidr", "10.64.0.0/10"], 'R["addr"] = ifaddr4("tap0")\n'
                      'R["routes"] = routes4()')
        self.assertEqual(r["addr"], ["10.64.0.100", "255.192.0.0"])
        self.assertEqual(r["routes"][0], ["tap0", "0.0.0.0", "10.64.0.2", "0.0.0.0"])

    def test_cidr_shown_by_info(self):
        with Npte(tcp=["0.0.0.0:80"], extra=["--net=slirp", "--cidr", "10.9.0.0/24",
                                              "--mtu", "9000"], timeout=30) as n:
            info = json.loads(n.port("info", "--json").stdout)
        self.assertEqual(info["networkDriver"], {"driver": "slirp", "dns": ["10.9.0.3"],
                                                 "childIP": "10.9.0.100", "gateway": "10.9.0.2",
                                                 "mtu": 9000})

    def test_ipv6(self):
        with HostTCPServer("::1") as srv:
            r, _ = ns_run(["--ipv6"], """
R["v6"] = [a for a in ifaddr6("tap0") if a[2] == 0]
R["default6"] = default6()
R["resolv"] = read("/etc/resolv.conf")
R["tcp"] = tcp("fd00::2", %d, os.urandom(60000))
""" % srv.port)
            conns = srv.finished()
        self.assertEqual(r["v6"], [["fd00::100", 64, 0]])
        self.assertEqual(r["default6"], [["fd00::2", "tap0"]])
        self.assertEqual(r["resolv"], "nameserver 10.0.2.3\nnameserver fd00::3\n")
        self.assertEqual(r["tcp"]["reply_len"], 60000)
        self.assertTrue(r["tcp"]["reply_ok"], "reply corrupted")
        self.assertEqual(conns, [{"peer": "::1", "bytes": 60000,
                                  "sha256": r["tcp"]["sent_sha256"]}])

    def test_cidr6(self):
        with HostTCPServer("::1") as srv:
            r, _ = ns_run(["--cidr6", "fd12:3456::/64"], """
R["v6"] = [a for a in ifaddr6("tap0") if a[2] == 0]
R["default6"] = default6()
R["resolv"] = read("/etc/resolv.conf")
R["tcp"] = tcp("fd12:3456::2", %d, b"six" * 100)
""" % srv.port)
            conns = srv.finished()
        self.assertEqual(r["v6"], [["fd12:3456::100", 64, 0]])
        self.assertEqual(r["default6"], [["fd12:3456::2", "tap0"]])
        self.assertEqual(r["resolv"], "nameserver 10.0.2.3\nnameserver fd12:3456::3\n")
        self.assertTrue(r["tcp"]["reply_ok"])
        self.assertEqual([(c["peer"], c["bytes"]) for c in conns], [("::1", 300)])

    def test_disable_dns_keeps_host_resolv_conf(self):
        r, _ = ns_run(["--disable-dns"], 'R["resolv"] = read("/etc/resolv.conf")')
        self.assertEqual(r["resolv"], host_resolv_conf())
        self.assertNotIn("10.0.2.3", r["resolv"])


# --------------------------------------------------------------------------
# 2, 3: from the namespace to the host's loopback through the gateway.
# --------------------------------------------------------------------------

class Outbound(unittest.TestCase):
    def transfers(self, mtu_args):
        """From inside to the host's 127.0.0.1 as 10.0.2.2: XOR echoes checked
        both ways, then 20 MiB each way checked byte for byte. The echo stays
        under 8760 bytes (see LIBSLIRP_POLL_NOTE)."""
        n = 20 * MIB
        with HostTCPServer() as echo, HostBulkServer() as bulk:
            r, _ = ns_run(mtu_args, """
R["mtu"] = sysfs("tap0", "mtu")
R["small"] = tcp("10.0.2.2", %d, b"hello slirp")
R["echo"] = tcp("10.0.2.2", %d, os.urandom(8000))
R["up"] = bulk_send("10.0.2.2", %d, %d, 1)
R["down"] = bulk_recv("10.0.2.2", %d, %d, 2)
""" % (echo.port, echo.port, bulk.port, n, bulk.port, n), timeout=180)
            echoed = echo.finished()
            bulked = bulk.finished()
        for key, size in (("small", 11), ("echo", 8000)):
            self.assertEqual(r[key]["reply_len"], size, key)
            self.assertTrue(r[key]["done"], key)
            self.assertTrue(r[key]["reply_ok"], key + ": reply corrupted")
        self.assertEqual(sorted((c["peer"], c["bytes"], c["sha256"]) for c in echoed),
                         sorted([("127.0.0.1", 11, r["small"]["sent_sha256"]),
                                 ("127.0.0.1", 8000, r["echo"]["sent_sha256"])]))
        # Namespace -> host: the host got exactly the bytes sent.
        self.assertEqual(r["up"]["reply"], r["up"]["expect"])
        up = [c for c in bulked if c["cmd"] == "SINK"]
        self.assertEqual(len(up), 1)
        self.assertEqual(len(up[0]["data"]), n)
        self.assertTrue(up[0]["data"] == random.Random(1).randbytes(n), "upload corrupted")
        # Host -> namespace: compared inside against the same generator.
        self.assertEqual(r["down"], {"bytes": n, "equal": True})
        self.assertEqual(sorted((c["peer"], c["cmd"]) for c in bulked),
                         [("127.0.0.1", "SINK"), ("127.0.0.1", "SOURCE %d 2" % n)])
        return r

    def test_bidirectional_echo_20mib(self):
        """20 MiB echoed by a host server while still being sent (LIBSLIRP_POLL_NOTE)."""
        for mtu in ([], ["--mtu", "1500"]):
            with HostTCPServer() as srv:
                r, _ = ns_run(mtu, """
R["echo"] = tcp("10.0.2.2", %d, random.Random(7).randbytes(20 * 1024 * 1024), timeout=120)
""" % srv.port, timeout=180)
            self.assertEqual(r["echo"]["reply_len"], 20 * 1024 * 1024, r)
            self.assertTrue(r["echo"]["reply_ok"], r)
            self.assertTrue(r["echo"]["done"], r)

    def test_tcp_mtu_65520(self):
        self.assertEqual(self.transfers([])["mtu"], "65520")

    def test_tcp_mtu_1500(self):
        self.assertEqual(self.transfers(["--mtu", "1500"])["mtu"], "1500")

    def test_udp(self):
        with HostUDPServer() as srv:
            r, _ = ns_run([], """
R["udp"] = [udp("10.0.2.2", %d, bytes([i %% 256]) * n) for i, n in
            enumerate([1, 100, 1400, 30000])]
""" % srv.port)
            srv.close()
        self.assertEqual(r["udp"], [True, True, True, True])
        self.assertGreaterEqual(len(srv.peers), 4)
        self.assertEqual(set(srv.peers), {"127.0.0.1"})

    def test_udp_ipv6(self):
        with HostUDPServer("::1") as srv:
            r, _ = ns_run(["--ipv6"], 'R["udp"] = udp("fd00::2", %d, b"v6 datagram")' % srv.port)
            srv.close()
        self.assertIs(r["udp"], True)
        self.assertEqual(set(srv.peers), {"::1"})

    def test_outbound_addr(self):
        # --outbound-addr 127.0.0.2: libslirp binds its host sockets there, so
        # the host's servers see 127.0.0.2 instead of 127.0.0.1.
        with HostTCPServer() as srv, HostUDPServer() as usrv:
            r, _ = ns_run(["--outbound-addr", "127.0.0.2"], """
R["tcp"] = tcp("10.0.2.2", %d, b"bound")
R["udp"] = udp("10.0.2.2", %d, b"bound")
""" % (srv.port, usrv.port))
            conns = srv.finished()
            usrv.close()
        self.assertTrue(r["tcp"]["reply_ok"])
        self.assertIs(r["udp"], True)
        self.assertEqual([(c["peer"], c["bytes"]) for c in conns], [("127.0.0.2", 5)])
        self.assertEqual(set(usrv.peers), {"127.0.0.2"})

    def test_disable_host_loopback(self):
        with HostTCPServer() as srv, HostUDPServer() as usrv:
            t0 = time.monotonic()
            r, err = ns_run(["--disable-host-loopback"], """
R["tcp"] = tcp("10.0.2.2", %d, b"nope", timeout=3)
R["udp"] = udp("10.0.2.2", %d, b"nope", tries=2, wait=1.0)
""" % (srv.port, usrv.port), timeout=30)
            elapsed = time.monotonic() - t0
            conns = srv.finished(1)
            usrv.close()
        # Refused (or reset) quickly, or at worst a 3 s timeout: never connected.
        # libslirp answers with ICMP net unreachable; refused or a timeout
        # (3 s here) would do as well: what matters is that it never connects.
        self.assertIn(r["tcp"].get("error"), ("ENETUNREACH", "EHOSTUNREACH", "ECONNREFUSED",
                                              "timeout"), r["tcp"])
        self.assertIsNone(r["udp"])
        self.assertLess(elapsed, 20)
        self.assertEqual(conns, [])
        self.assertEqual(usrv.peers, [])
        self.assertEqual(warnings_about_loopback(err), [])
        self.assertNotIn("warning", err)


# --------------------------------------------------------------------------
# 5: the slirp port driver.
# --------------------------------------------------------------------------

class BadValues(unittest.TestCase):
    def usage_error(self, args, expect):
        """npte run ARGS must exit 2 at once naming the option, starting nothing."""
        with tempfile.TemporaryDirectory(prefix="npte-it-") as tmp:
            marker = os.path.join(tmp, "payload-ran")
            state = os.path.join(tmp, "state")
            t0 = time.monotonic()
            res = subprocess.run([NPTE, "run", "--state-dir", state] + list(args)
                                 + ["--", "/bin/sh", "-c", "touch " + marker],
                                 capture_output=True, text=True, timeout=20)
            elapsed = time.monotonic() - t0
            self.assertEqual(res.returncode, 2, "%s: %s" % (args, res.stderr))
            self.assertIn(expect, res.stderr, args)
            self.assertTrue(res.stderr.startswith("npte: "), res.stderr)
            self.assertEqual(res.stdout, "")
            self.assertLess(elapsed, 5, args)
            self.assertFalse(os.path.exists(marker), "the payload ran")
            self.assertFalse(os.path.exists(state), "the state dir was created")
            self.assertEqual(processes_mentioning(tmp), [])

    def test_bad_mtu(self):
        for v in ("0", "67", "65522", "abc", "", "-1", "1500x"):
            with self.subTest(mtu=v):
                self.usage_error(["--net=slirp", "--mtu", v],
                                 'invalid --mtu "%s": must be 68..65521' % v)

    def test_bad_cidr(self):
        for v, why in (("10.0.2.1/24", "host bits are set"),
                       ("10.0.2.0/26", "the prefix length must be 1..25"),
                       ("0.0.0.0/0", "the prefix length must be 1..25"),
                       ("10.0.2.0", "expected A.B.C.D/N"),
                       ("bogus", "expected A.B.C.D/N"),
                       ("10.0.2.0/", "expected A.B.C.D/N"),
                       ("fd00::/64", "expected A.B.C.D/N")):
            with self.subTest(cidr=v):
                self.usage_error(["--net=slirp", "--cidr", v], 'invalid --cidr "%s": %s' % (v, why))

    def test_bad_cidr6(self):
        for v, why in (("fd00::1/64", "host bits are set"),
                       ("fd00::/4", "the prefix length must be 8..120"),
                       ("::1/128", "the prefix length must be 8..120"),
                       ("::/64", "not a unicast prefix"),
                       ("ff00::/8", "not a unicast prefix"),
                       ("10.0.2.0/24", "expected PREFIX/N"),
                       ("fd00::", "expected PREFIX/N")):
            with self.subTest(cidr6=v):
                self.usage_error(["--net=slirp", "--cidr6", v],
                                 'invalid --cidr6 "%s": %s' % (v, why))

    def test_bad_mac(self):
        for v, why in (("zz:zz:zz:zz:zz:zz", "expected xx:xx:xx:xx:xx:xx"),
                       ("01:00:00:00:00:01", "a multicast address"),
                       ("02:00:00:00:00", "expected xx:xx:xx:xx:xx:xx"),
                       ("02:00:00:00:00:001", "expected xx:xx:xx:xx:xx:xx"),
                       ("02-00-00-00-00-01", "expected xx:xx:xx:xx:xx:xx")):
            with self.subTest(mac=v):
                self.usage_error(["--net=slirp", "--mac", v], 'invalid --mac "%s": %s' % (v, why))

    def test_bad_ifname(self):
        for v in ("", "a" * 16, "a/b", "a:b", "a b", ".", ".."):
            with self.subTest(ifname=v):
                self.usage_error(["--net=slirp", "--ifname", v],
                                 'invalid --ifname "%s": 1..15 characters' % v)

    def test_bad_outbound_addr(self):
        for opt, v, why in (("--outbound-addr", "bogus", "not an IPv4 address"),
                            ("--outbound-addr", "::1", "not an IPv4 address"),
                            ("--outbound-addr6", "bogus", "not an IPv6 address"),
                            ("--outbound-addr6", "127.0.0.1", "not an IPv6 address")):
            with self.subTest(opt=opt, v=v):
                self.usage_error(["--net=slirp", opt, v], 'invalid %s "%s": %s' % (opt, v, why))

    def test_network_options_need_slirp(self):
        msg = "network options (--mtu, --cidr, --ipv6, ...) need --net=slirp"
        for args in (["--mtu", "1500"], ["--net=none", "--mtu", "1500"], ["--ipv6"],
                     ["--cidr", "10.9.0.0/24"], ["--disable-host-loopback"], ["--disable-dns"],
                     ["--ifname", "tap1"]):
            with self.subTest(args=args):
                self.usage_error(args, msg)

    def test_port_driver_slirp_needs_slirp(self):
        for args in (["--port-driver=slirp"], ["--net=none", "--port-driver=slirp"],
                     ["--port-driver=slirp", "-p", "127.0.0.1:%d:80/tcp" % free_port()]):
            with self.subTest(args=args):
                self.usage_error(args, "--port-driver=slirp needs --net=slirp")

    def test_unknown_net(self):
        self.usage_error(["--net=bogus"], 'unknown --net "bogus"')


if __name__ == "__main__":
    run_tests()
