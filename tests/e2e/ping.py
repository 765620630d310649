#!/usr/bin/python3
"""Minimal ICMP/ICMPv6 echo (the lab machine has no iputils ping). Pure python, needs root.

    ping.py DST [--count N] [--timeout SECONDS]

DST may be IPv4 or IPv6. Prints one line per reply and exits 0 only if every echo was answered.
"""
import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import time


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("dst")
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1.0)
    a = ap.parse_args()

    v6 = ipaddress.ip_address(a.dst).version == 6
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        echo_req, echo_rep = 128, 129
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        echo_req, echo_rep = 8, 0
    ident = os.getpid() & 0xFFFF
    answered = 0
    for seq in range(1, a.count + 1):
        payload = struct.pack("!d", time.time()) + b"sfcproxy-e2e"
        hdr = struct.pack("!BBHHH", echo_req, 0, 0, ident, seq)
        # The kernel fills in the ICMPv6 checksum (it needs the pseudo header); ICMPv4 is ours.
        pkt = hdr + payload if v6 else struct.pack("!BBHHH", echo_req, 0, csum(hdr + payload), ident, seq) + payload
        t0 = time.time()
        s.sendto(pkt, (a.dst, 0))
        got = False
        while not got:
            left = a.timeout - (time.time() - t0)
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            data, src = s.recvfrom(2048)
            icmp = data if v6 else data[(data[0] & 0x0F) * 4:]
            if len(icmp) < 8:
                continue
            typ, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
            if typ == echo_rep and rid == ident and rseq == seq:
                got = True
                print(f"reply from {src[0]}: seq={seq} time={(time.time() - t0) * 1000:.2f} ms")
        if got:
            answered += 1
        else:
            print(f"no reply for seq={seq}")
    print(f"{a.count} sent, {answered} answered")
    return 0 if answered == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
