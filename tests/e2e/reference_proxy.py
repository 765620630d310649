#!/usr/bin/python3
"""NOT the product: a user-space reference model of the transformation SfcProxy must perform,
used to self-test the lab harness without the real daemon.

It mimics the daemon's CLI just enough (`run --config F` binds the Socket.Path Unix socket;
`stats ...` prints {"reference": true}) and does, entirely in user space on packet sockets:
read SR-MPLS frames on Interfaces.Ingress, drop UDP port 9 (the VNF), decrement the IP TTL once
(one kernel forwarding hop), push the stack minus the top entry with new top TTL = popped TTL - 1,
and send the frame out of Interfaces.Egress to 198.18.2.1's MAC.

    SFCPROXY_E2E_DAEMON=$PWD/tests/e2e/reference_proxy.py \
        dotnet test tests/SfcProxy.Tests --filter FullyQualifiedName~MetadataKey
must get through the receiver check (all_ok) and then FAIL on the iptables counters, because the
packets bypassed the kernel VNF. That failure is the expected outcome of the self-test.
"""
import json, os, select, signal, socket, struct, subprocess, sys
if sys.argv[1] == "stats":
    print(json.dumps({"reference": True})); sys.exit(0)
cfg = json.load(open(sys.argv[3]))["SfcProxy"]
ing, eg, path = cfg["Interfaces"]["Ingress"], cfg["Interfaces"]["Egress"], cfg["Socket"]["Path"]
stop = False
def h(*a):
    global stop; stop = True
signal.signal(signal.SIGTERM, h)
us = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); us.bind(path); us.listen(1)
rmac = bytes.fromhex(subprocess.check_output(["ip", "neigh", "show", "198.18.2.1"]).split()[4].decode().replace(":", ""))
emac = bytes.fromhex(open(f"/sys/class/net/{eg}/address").read().strip().replace(":", ""))
rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x8847)); rx.bind((ing, 0x8847))
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW); tx.bind((eg, 0))
def csum(b):
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
n = 0
while not stop:
    r, _, _ = select.select([rx], [], [], 0.2)
    if not r: continue
    fr, addr = rx.recvfrom(65535)
    if addr[2] == 4: continue
    off, labels = 14, []
    while True:
        v = struct.unpack("!I", fr[off:off+4])[0]; off += 4; labels.append(v)
        if v & 0x100: break
    ip = bytearray(fr[off:])
    if ip[0] >> 4 == 4:
        ip = ip[:struct.unpack("!H", ip[2:4])[0]]
        if ip[9] == 17 and struct.unpack("!H", ip[22:24])[0] == 9: continue
        ip[8] -= 1; ip[10:12] = b"\0\0"; ip[10:12] = struct.pack("!H", csum(bytes(ip[:20]))); et = 0x0800
    else:
        ip = ip[:40 + struct.unpack("!H", ip[4:6])[0]]
        if ip[6] == 17 and struct.unpack("!H", ip[42:44])[0] == 9: continue
        ip[7] -= 1; et = 0x86dd
    rest = labels[1:]
    if rest:
        rest[0] = (rest[0] & ~0xff) | ((labels[0] & 0xff) - 1)
        out = rmac + emac + struct.pack("!H", 0x8847) + b"".join(struct.pack("!I", v) for v in rest) + bytes(ip)
    else:
        out = rmac + emac + struct.pack("!H", et) + bytes(ip)
    tx.send(out); n += 1
os.unlink(path); print(f"reference proxy forwarded {n}", file=sys.stderr)
