#!/usr/bin/python3
"""Plain UDP through ordinary sockets, for lab scenarios where the kernel itself encapsulates and
decapsulates (SRv6 `encap seg6` routes, seg6local End.DX4/End.DX6): what arrives in a socket
made it through the whole path. Pure python.

    udp_probe.py recv --bind ADDR --port P --count N [--timeout S]
        prints READY once bound; exits when N distinct datagrams arrived or at the timeout;
        prints {"received": n, "distinct": d, "bad": b} and exits 0 only if d == N and b == 0
    udp_probe.py send DST --port P --count N [--gap-ms G]
        N datagrams "udp_probe <i> <filler>" of varying length to DST:P
"""
import argparse
import json
import socket
import sys
import time

MAGIC = b"udp_probe "


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def payload(i):
    # the length varies with i, so a wrong payload length in a restored header shows
    return MAGIC + str(i).encode() + b" " + bytes((i * 7 + k) & 0xFF for k in range(16 + i % 200))


def recv(a):
    s = socket.socket(family(a.bind), socket.SOCK_DGRAM)
    s.bind((a.bind, a.port))
    s.settimeout(0.2)
    print("READY", flush=True)
    got, seen, bad = 0, set(), 0
    deadline = time.time() + a.timeout
    while time.time() < deadline and len(seen) < a.count:
        try:
            data = s.recv(65535)
        except socket.timeout:
            continue
        got += 1
        try:
            i = int(data[len(MAGIC):].split(b" ", 1)[0])
        except ValueError:
            bad += 1
            continue
        if data != payload(i) or not 0 <= i < a.count:
            bad += 1
            continue
        seen.add(i)
    print(json.dumps({"received": got, "distinct": len(seen), "bad": bad}), flush=True)
    return 0 if len(seen) == a.count and bad == 0 else 1


def send(a):
    s = socket.socket(family(a.dst), socket.SOCK_DGRAM)
    for i in range(a.count):
        s.sendto(payload(i), (a.dst, a.port))
        time.sleep(a.gap_ms / 1000.0)
    print(json.dumps({"sent": a.count}), flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recv")
    r.add_argument("--bind", required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--count", type=int, required=True)
    r.add_argument("--timeout", type=float, default=10.0)
    r.set_defaults(func=recv)
    s = sub.add_parser("send")
    s.add_argument("dst")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--gap-ms", type=float, default=1.0)
    s.set_defaults(func=send)
    a = ap.parse_args()
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
