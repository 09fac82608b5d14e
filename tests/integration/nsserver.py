#!/usr/bin/env python3
"""Test servers that run INSIDE the npte namespace (as the payload).

Every server is bounded: it exits after --timeout seconds. Protocol, so that
both directions are checked: the server answers each TCP connection by
echoing every byte back transformed (each byte XOR 0x5a), and each UDP
datagram the same way. With --report-peer, TCP servers first send one line
"PEER <ip> <port>\n" naming the client address they saw; with
--report-peer-udp, UDP replies start with that line. A --tcp-flood server
writes to each client without end (until --timeout) the byte stream
0, 1, ..., 255, 0, 1, ... and discards what the client sends.

Usage: nsserver.py --ready FILE --timeout S [--tcp ADDR:PORT]... [--udp ADDR:PORT]...
                   [--tcp-flood ADDR:PORT]...
ADDR may be 127.0.0.1, ::1, 0.0.0.0 or ::.
"""
import argparse
import os
import selectors
import socket
import sys
import time


def xor(data):
    return bytes(b ^ 0x5A for b in data)


def parse(addr):
    host, _, port = addr.rpartition(":")
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    return fam, host, int(port)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ready", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--tcp", action="append", default=[])
    ap.add_argument("--udp", action="append", default=[])
    ap.add_argument("--tcp-flood", action="append", default=[])
    ap.add_argument("--report-peer", action="store_true")
    ap.add_argument("--report-peer-udp", action="store_true")
    args = ap.parse_args()

    sel = selectors.DefaultSelector()
    flood_buf = memoryview(bytes(range(256)) * 1025)  # 256 KiB + one period
    for a, kind in [(x, "accept") for x in args.tcp] + [(x, "accept-flood") for x in args.tcp_flood]:
        fam, host, port = parse(a)
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        s.listen(1024)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, (kind, None))
    for a in args.udp:
        fam, host, port = parse(a)
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, ("udp", None))
    with open(args.ready + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(args.ready + ".tmp", args.ready)

    pending = {}
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        for key, ev in sel.select(timeout=0.5):
            kind, _ = key.data
            s = key.fileobj
            if kind in ("accept", "accept-flood"):
                try:
                    c, peer = s.accept()
                except BlockingIOError:
                    continue
                except OSError:
                    # EMFILE/ENFILE under a low fd limit: let clients wait in the backlog.
                    time.sleep(0.05)
                    continue
                if kind == "accept-flood":
                    c.setblocking(False)
                    sel.register(c, selectors.EVENT_READ | selectors.EVENT_WRITE, ("flood", [0]))
                    continue
                c.setblocking(False)
                out = b""
                if args.report_peer:
                    out = ("PEER %s %d\n" % (peer[0], peer[1])).encode()
                pending[c] = out
                mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if out else 0)
                sel.register(c, mask, ("conn", None))
            elif kind == "udp":
                try:
                    data, peer = s.recvfrom(65536)
                except BlockingIOError:
                    continue
                prefix = b""
                if args.report_peer_udp:
                    prefix = ("PEER %s %d\n" % (peer[0], peer[1])).encode()
                s.sendto(prefix + xor(data), peer)
            elif kind == "flood":
                sent = key.data[1]
                try:
                    if ev & selectors.EVENT_READ and s.recv(262144) == b"":
                        raise ConnectionError("client closed")
                    if ev & selectors.EVENT_WRITE:
                        off = sent[0] % 256
                        sent[0] += s.send(flood_buf[off:off + 262144])
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    sel.unregister(s)
                    s.close()
            else:
                if ev & selectors.EVENT_READ:
                    try:
                        data = s.recv(262144)
                    except (BlockingIOError, InterruptedError):
                        data = None
                    except ConnectionError:
                        data = b""
                    if data == b"":
                        # Client finished: flush what is left, then close.
                        try:
                            s.setblocking(True)
                            s.settimeout(10)
                            s.sendall(pending.pop(s, b""))
                            s.shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
                        sel.unregister(s)
                        s.close()
                        continue
                    if data:
                        pending[s] += xor(data)
                        sel.modify(s, selectors.EVENT_READ | selectors.EVENT_WRITE, key.data)
                if ev & selectors.EVENT_WRITE and pending.get(s):
                    try:
                        n = s.send(pending[s])
                        pending[s] = pending[s][n:]
                        if not pending[s]:
                            sel.modify(s, selectors.EVENT_READ, key.data)
                    except (BlockingIOError, InterruptedError):
                        pass
                    except ConnectionError:
                        sel.unregister(s)
                        pending.pop(s, None)
                        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
