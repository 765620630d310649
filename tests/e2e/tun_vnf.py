#!/usr/bin/python3
"""User-mode VNF for the SfcProxy lab: a pass-through "firewall" on a TUN device.

    tun_vnf.py --tun IFNAME [--drop-udp-port PORT] [--ready-file PATH]

Attaches to the (persistent) TUN device IFNAME with IFF_TUN|IFF_NO_PI, reads IP packets and writes
each back unchanged into the same TUN, so the kernel routes it on (policy routing in the proxy
namespace sends it out of the egress interface). Packets to UDP destination port PORT are dropped,
to show that it acts as a VNF. Prints READY once attached; runs until SIGTERM/SIGINT and then
prints a JSON line with its counters. Pure python: run it inside the proxy namespace
(ip netns exec NAME-prx /usr/bin/python3 tun_vnf.py --tun NAMEt).
"""
import argparse
import errno
import fcntl
import json
import os
import select
import signal
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

stop = False


def on_signal(signum, frame):  # noqa: ARG001
    global stop
    stop = True


def udp_dport(pkt: bytes):
    """Destination port of an unfragmented UDP packet (IPv4, or IPv6 without extension headers)."""
    if not pkt:
        return None
    ver = pkt[0] >> 4
    if ver == 4 and len(pkt) >= 20:
        ihl = (pkt[0] & 0x0F) * 4
        frag = struct.unpack("!H", pkt[6:8])[0] & 0x1FFF
        if pkt[9] == 17 and frag == 0 and len(pkt) >= ihl + 4:
            return struct.unpack("!H", pkt[ihl + 2:ihl + 4])[0]
    elif ver == 6 and len(pkt) >= 44 and pkt[6] == 17:
        return struct.unpack("!H", pkt[42:44])[0]
    return None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tun", required=True)
    ap.add_argument("--drop-udp-port", type=int, default=None)
    ap.add_argument("--ready-file", default=None)
    a = ap.parse_args()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", a.tun.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    stats = {"read": 0, "written": 0, "dropped": 0, "write_errors": 0, "v4": 0, "v6": 0}
    print("READY", flush=True)
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            f.write(str(os.getpid()))

    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while not stop:
        try:
            events = poller.poll(200)
        except InterruptedError:
            continue
        if not events:
            continue
        while True:
            try:
                pkt = os.read(fd, 65535)
            except BlockingIOError:
                break
            except InterruptedError:
                break
            stats["read"] += 1
            ver = pkt[0] >> 4 if pkt else 0
            if ver == 4:
                stats["v4"] += 1
            elif ver == 6:
                stats["v6"] += 1
            if a.drop_udp_port is not None and udp_dport(pkt) == a.drop_udp_port:
                stats["dropped"] += 1
                continue
            try:
                os.write(fd, pkt)
                stats["written"] += 1
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EINTR, errno.EIO, errno.EINVAL):
                    raise
                stats["write_errors"] += 1
    os.close(fd)
    print(json.dumps({"tun_vnf": stats}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
