#!/usr/bin/python3
"""NOT the product: a user-space reference model of the transformation SfcProxy must perform,
used to self-test the lab harness without the real daemon.

It mimics the daemon's CLI just enough: `run --config F` binds the Socket.Path Unix socket and
answers every request line on it with {"ok":true,"reference":true,"counters":{...}} (counter names
as the daemon's: rx_popped, tx_restored, labels_popped, labels_pushed, nsh_popped, nsh_restored,
nsh_oam); `stats --socket S --json` asks it and prints that answer. Entirely in user space on
packet sockets it reads frames on Interfaces.Ingress and, for the encapsulations listed in
Encapsulations (default ["mpls"]; the old single Encapsulation is accepted too):
  - SR-MPLS (0x8847): pop the stack; VNF; push the stack minus the top entry with new top TTL =
    popped TTL - 1 (plain IP when nothing is left);
  - NSH (0x894F): drop if TTL <= 1 or SI <= 1; pop; VNF; restore the NSH header byte for byte
    with TTL - 1 and SI - 1. Next protocol IPv4/IPv6: Ethernet(dst 198.18.2.1's MAC, src egress
    MAC, 0x894F) + NSH + IP. Next protocol Ethernet: outer Ethernet(dst Nsh.NextHopMac, else the
    popped frame's source MAC; src egress MAC, 0x894F) + NSH + the inner Ethernet frame as the
    VNF emits it (dst 198.18.2.1's MAC, src egress MAC) + IP;
and sends the result out of Interfaces.Egress. "VNF" = drop UDP port 9, decrement the IP TTL once
per IP hop: 1 (kernel VNF), or 2 when the lab has a TUN device INSTANCEt (user-mode VNF).

    SFCPROXY_E2E_DAEMON=$PWD/tests/e2e/reference_proxy.py \\
        dotnet test tests/SfcProxy.Tests --filter FullyQualifiedName~EndToEnd
must get through the receiver check (all_ok) and the daemon counter checks and then FAIL on the
VNF counters (iptables / tun_vnf.py), because the packets bypassed the VNF. That failure is the
expected outcome of the self-test. run_lab.sh ... -- tests/e2e/reference_proxy.py works the same
(its exit code is the receiver's).
"""
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys

ETH_P_ALL, ETH_P_IP, ETH_P_IPV6, ETH_P_MPLS, ETH_P_NSH = 0x0003, 0x0800, 0x86DD, 0x8847, 0x894F


def stats_client(argv):
    path = argv[argv.index("--socket") + 1]
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    c.sendall(b'{"request":"stats"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        d = c.recv(65536)
        if not d:
            break
        buf += d
    print(buf.decode().strip())
    return 0


def csum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def vnf(ip, hops):
    """The VNF: None if dropped (UDP port 9), else the IP packet with TTL - hops."""
    ip = bytearray(ip)
    if ip[0] >> 4 == 4:
        ip = ip[:struct.unpack("!H", ip[2:4])[0]]
        ihl = (ip[0] & 0x0F) * 4
        if ip[9] == 17 and struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] == 9:
            return None, 0
        ip[8] -= hops
        ip[10:12] = b"\0\0"
        ip[10:12] = struct.pack("!H", csum(bytes(ip[:ihl])))
        return bytes(ip), ETH_P_IP
    ip = ip[:40 + struct.unpack("!H", ip[4:6])[0]]
    if ip[6] == 17 and struct.unpack("!H", ip[42:44])[0] == 9:
        return None, 0
    ip[7] -= hops
    return bytes(ip), ETH_P_IPV6


def main():
    if sys.argv[1] == "stats":
        return stats_client(sys.argv)
    cfg = json.load(open(sys.argv[sys.argv.index("--config") + 1]))["SfcProxy"]
    ing, eg, path = cfg["Interfaces"]["Ingress"], cfg["Interfaces"]["Egress"], cfg["Socket"]["Path"]
    encaps = cfg.get("Encapsulations") or [cfg.get("Encapsulation", "mpls")]
    accept = {ETH_P_MPLS} if "mpls" in encaps else set()
    if "nsh" in encaps:
        accept.add(ETH_P_NSH)
    nh = (cfg.get("Nsh") or {}).get("NextHopMac")
    next_hop = bytes.fromhex(nh.replace(":", "")) if nh else None
    # Under nsenter --net, /sys is still the host's: ask the namespace's stack, not sysfs.
    try:
        socket.if_nametoindex(f"{cfg.get('Instance', '')}t")
        hops = 2
    except OSError:
        hops = 1

    # Self-test of the checker: SFCPROXY_REF_BREAK=si|last-byte|outer-dst|expired|inner-src makes
    # this model restore NSH wrongly on purpose (the receiver must then report errors).
    brk = os.environ.get("SFCPROXY_REF_BREAK", "")
    stop = False

    def on_term(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    rmac = bytes.fromhex(subprocess.check_output(["ip", "neigh", "show", "198.18.2.1"]).split()[4].decode().replace(":", ""))
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    rx.bind((ing, ETH_P_ALL))
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind((eg, 0))
    emac = tx.getsockname()[4][:6]
    n = {k: 0 for k in ("rx_popped", "tx_restored", "tx_restored_last", "labels_popped", "labels_pushed",
                        "nsh_popped", "nsh_restored", "nsh_oam", "tx_si_exhausted", "vnf_dropped")}
    us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    us.bind(path)  # the socket appearing = ready: bind it only when the packet sockets are open
    us.listen(8)
    clients = []

    while not stop:
        r, _, _ = select.select([rx, us] + clients, [], [], 0.2)
        for c in [c for c in r if c in clients]:
            try:
                d = c.recv(65536)
            except OSError:
                d = b""
            if d:
                c.sendall((json.dumps({"ok": True, "reference": True, "counters": n}) + "\n").encode())
            else:
                clients.remove(c)
                c.close()
        if us in r:
            clients.append(us.accept()[0])
        if rx not in r:
            continue
        while True:
            try:
                fr, addr = rx.recvfrom(65535, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            if addr[2] == 4 or len(fr) < 14:  # PACKET_OUTGOING
                continue
            et = struct.unpack("!H", fr[12:14])[0]
            if et not in accept:
                continue
            out = None
            if et == ETH_P_MPLS:
                off, labels = 14, []
                while True:
                    v = struct.unpack("!I", fr[off:off + 4])[0]
                    off += 4
                    labels.append(v)
                    if v & 0x100:
                        break
                n["rx_popped"] += 1
                n["labels_popped"] += len(labels)
                ip, ipt = vnf(fr[off:], hops)
                if ip is None:
                    n["vnf_dropped"] += 1
                    continue
                rest = labels[1:]
                if rest:
                    rest[0] = (rest[0] & ~0xFF) | ((labels[0] & 0xFF) - 1)
                    out = rmac + emac + struct.pack("!H", ETH_P_MPLS) + b"".join(struct.pack("!I", v) for v in rest) + ip
                    n["tx_restored"] += 1
                    n["labels_pushed"] += len(rest)
                else:
                    out = rmac + emac + struct.pack("!H", ipt) + ip
                    n["tx_restored_last"] += 1
            else:
                nsh = bytearray(fr[14:14 + (fr[15] & 0x3F) * 4])
                ttl = ((nsh[0] & 0x0F) << 2) | (nsh[1] >> 6)
                if (ttl <= 1 or nsh[7] <= 1) and brk != "expired":
                    n["tx_si_exhausted"] += 1
                    continue
                n["rx_popped"] += 1
                n["nsh_popped"] += 1
                n["nsh_oam"] += (nsh[0] >> 5) & 1
                np, off = nsh[3], 14 + len(nsh)
                if np == 3:
                    off += 14  # the VNF (kernel routing) consumes the inner Ethernet header
                ip, ipt = vnf(fr[off:], hops)
                if ip is None:
                    n["vnf_dropped"] += 1
                    continue
                ttl = (ttl - 1) & 0x3F
                nsh[0] = (nsh[0] & 0xF0) | (ttl >> 2)
                nsh[1] = ((ttl & 3) << 6) | (nsh[1] & 0x3F)
                nsh[7] = (nsh[7] - (brk != "si")) & 0xFF
                if brk == "last-byte":
                    nsh[-1] ^= 0x01
                if np == 3:
                    outer_dst = fr[6:12] if brk == "outer-dst" else (next_hop or fr[6:12])
                    out = (outer_dst + emac + struct.pack("!H", ETH_P_NSH) + bytes(nsh)
                           + rmac + (fr[6:12] if brk == "inner-src" else emac) + struct.pack("!H", ipt) + ip)
                else:
                    out = rmac + emac + struct.pack("!H", ETH_P_NSH) + bytes(nsh) + ip
                n["tx_restored"] += 1
                n["nsh_restored"] += 1
            tx.send(out)
    us.close()
    os.unlink(path)
    print(f"reference proxy: {json.dumps(n)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
