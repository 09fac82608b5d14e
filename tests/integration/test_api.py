"""The REST API on $STATE/api.sock: rootlesskit's routes, codes and shapes; bad input."""
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npte_test import Npte, free_port, http_unix, run_tests, tcp_exchange, xor  # noqa: E402


class Api(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.n = Npte(tcp=["127.0.0.1:80"], timeout=240)
        cls.n.wait_ready()
        cls.sock = cls.n.api_sock

    @classmethod
    def tearDownClass(cls):
        cls.n.__exit__(None, None, None)

    def req(self, method, url, body=None, raw=None):
        return http_unix(self.sock, method, url, body=body, raw=raw)

    def list_ports(self):
        st, hd, body = self.req("GET", "/v1/ports")
        self.assertEqual(st, 200)
        return json.loads(body)

    def test_socket_mode(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.sock).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(self.n.state_dir).st_mode), 0o700)

    def test_info(self):
        st, hd, body = self.req("GET", "/v1/info")
        self.assertEqual(st, 200)
        self.assertIn("application/json", hd.get("content-type", ""))
        info = json.loads(body)
        self.assertEqual(info["apiVersion"], "1.1.1")
        self.assertEqual(info["stateDir"], self.n.state_dir)
        self.assertEqual(info["childPID"], self.n.child_pid())
        self.assertEqual(info["portDriver"]["driver"], "builtin")
        self.assertEqual(info["portDriver"]["protos"], ["tcp", "tcp4", "tcp6", "udp", "udp4", "udp6"])

    def test_empty_list_is_array(self):
        st, hd, body = self.req("GET", "/v1/ports")
        self.assertEqual(st, 200)
        self.assertIn("application/json", hd.get("content-type", ""))
        self.assertIsInstance(json.loads(body), list)

    def test_post_list_delete(self):
        port = free_port()
        spec = {"proto": "tcp", "parentIP": "127.0.0.1", "parentPort": port, "childPort": 80}
        st, _, body = self.req("POST", "/v1/ports", json.dumps(spec))
        self.assertEqual(st, 201, body)
        status = json.loads(body)
        self.assertEqual(status["spec"]["parentPort"], port)
        self.assertEqual(status["spec"]["proto"], "tcp")
        pid = status["id"]
        reply, _ = tcp_exchange("127.0.0.1", port, b"api")
        self.assertEqual(reply, xor(b"api"))
        ids = [p["id"] for p in self.list_ports()]
        self.assertIn(pid, ids)
        self.assertEqual(ids, sorted(ids))
        st, _, body = self.req("DELETE", "/v1/ports/%d" % pid)
        self.assertEqual((st, body), (200, b""))
        self.assertNotIn(pid, [p["id"] for p in self.list_ports()])
        st, _, body = self.req("DELETE", "/v1/ports/%d" % pid)
        self.assertEqual(st, 400)
        self.assertIn("unknown id", json.loads(body)["message"])

    def test_rootlesskit_case_insensitive_fields(self):
        port = free_port()
        body = '{"Proto":"tcp","ParentIP":"127.0.0.1","ParentPort":%d,"ChildPort":80,"x":1}' % port
        st, _, out = self.req("POST", "/v1/ports", body)
        self.assertEqual(st, 201, out)
        self.req("DELETE", "/v1/ports/%d" % json.loads(out)["id"])

    def test_bad_requests_change_nothing(self):
        before = self.list_ports()
        port = free_port()
        cases = [
            ("POST", "/v1/ports", "{not json", 400),
            ("POST", "/v1/ports", "", 400),
            ("POST", "/v1/ports", "[]", 400),
            ("POST", "/v1/ports", '{"proto":"tcp","parentPort":"80","childPort":80}', 400),
            ("POST", "/v1/ports", '{"proto":5,"parentPort":%d,"childPort":80}' % port, 400),
            ("POST", "/v1/ports", '{"parentPort":%d,"childPort":80}' % port, 400),
            ("POST", "/v1/ports", '{"proto":"tcp","childPort":80,"parentPort":70000}', 400),
            ("POST", "/v1/ports", '{"proto":"tcp","parentPort":%d}' % port, 400),
            ("POST", "/v1/ports", '{"proto":"tcp","parentIP":"bad","parentPort":%d,"childPort":1}' % port, 400),
            ("POST", "/v1/ports", '{"proto":"sctp","parentPort":%d,"childPort":1}' % port, 400),
            ("POST", "/v1/ports", b'{"proto":"\xff\xfe","parentPort":1,"childPort":1}', 400),
            ("DELETE", "/v1/ports/abc", None, 400),
            ("DELETE", "/v1/ports/-1", None, 400),
            ("DELETE", "/v1/ports/999999", None, 400),
            ("GET", "/v1/nope", None, 404),
            ("GET", "/", None, 404),
            ("PUT", "/v1/ports", "{}", 405),
            ("POST", "/v1/info", "{}", 405),
        ]
        for method, url, body, code in cases:
            with self.subTest(method=method, url=url, body=body):
                st, hd, out = self.req(method, url, body)
                self.assertEqual(st, code, out)
                msg = json.loads(out)["message"]
                self.assertTrue(msg)
        self.assertEqual(self.list_ports(), before)

    def test_huge_body(self):
        body = '{"proto":"tcp","pad":"' + "x" * (2 * 1024 * 1024) + '"}'
        st, _, out = self.req("POST", "/v1/ports", body)
        self.assertEqual(st, 413)
        self.assertIn("message", json.loads(out))

    def test_many_concurrent_clients(self):
        errors = []

        def client():
            try:
                st, _, _ = self.req("GET", "/v1/info")
                if st != 200:
                    errors.append(st)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
        threads = [threading.Thread(target=client) for _ in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])

    def test_slow_client_does_not_block_others(self):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.sock)
        s.sendall(b"GET /v1/in")  # and then nothing
        t0 = time.monotonic()
        st, _, _ = self.req("GET", "/v1/info")
        self.assertEqual(st, 200)
        self.assertLess(time.monotonic() - t0, 2)
        s.close()

    def test_rootlessctl_client(self):
        exe = None
        for c in ("rootlessctl", "/usr/bin/rootlessctl"):
            r = subprocess.run(["sh", "-c", "command -v " + c], capture_output=True, text=True)
            if r.returncode == 0:
                exe = r.stdout.strip()
                break
        if exe is None:
            self.skipTest("rootlessctl is not installed")
        port = free_port()
        r = subprocess.run([exe, "--socket", self.sock, "add-ports",
                            "127.0.0.1:%d:80/tcp" % port], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = r.stdout.strip()
        reply, _ = tcp_exchange("127.0.0.1", port, b"rkctl")
        self.assertEqual(reply, xor(b"rkctl"))
        r = subprocess.run([exe, "--socket", self.sock, "list-ports"], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(str(port), r.stdout)
        r = subprocess.run([exe, "--socket", self.sock, "remove-ports", pid], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = subprocess.run([exe, "--socket", self.sock, "info"], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("builtin", r.stdout)



class OtherUser(unittest.TestCase):
    """Another local user cannot drive the API: the socket is 0600 in a 0700 dir, and even
    past those permissions the server refuses peers with another uid (SO_PEERCRED)."""

    CLIENT = ("import socket,sys\n"
              "s=socket.socket(socket.AF_UNIX)\n"
              "try:\n"
              "    s.connect(sys.argv[1])\n"
              "except PermissionError:\n"
              "    print('EACCES'); sys.exit(0)\n"
              "s.sendall(b'GET /v1/ports HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
              "print(s.recv(100).split(b'\\r\\n')[0].decode())\n")

    def as_nobody(self, path):
        py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            py, "-c", self.CLIENT, path],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def test_other_uid_refused(self):
        with Npte(cmd=["sleep", "60"], extra=["--no-sandbox"]) as n:
            # What keeps other users out in the first place, for every run.
            self.assertEqual(stat.S_IMODE(os.stat(n.api_sock).st_mode), 0o600)
            self.assertEqual(stat.S_IMODE(os.stat(n.state_dir).st_mode), 0o700)
            if os.getuid() != 0:
                return  # only root can act as a second user on this machine
            # The file system keeps nobody out ...
            self.assertEqual(self.as_nobody(n.api_sock), "EACCES")
            # ... and with the permissions opened up, the server itself refuses.
            os.chmod(n.tmp, 0o711)
            os.chmod(n.state_dir, 0o711)
            os.chmod(n.api_sock, 0o666)
            self.assertEqual(self.as_nobody(n.api_sock), "HTTP/1.1 403 Forbidden")
            # The owner (root here) is still served.
            st, _, _ = http_unix(n.api_sock, "GET", "/v1/ports")
            self.assertEqual(st, 200)

if __name__ == "__main__":
    run_tests()
