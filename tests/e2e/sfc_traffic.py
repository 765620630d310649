#!/usr/bin/python3
"""SR-MPLS / NSH / SRv6 traffic generator and checker for the SfcProxy end-to-end lab.

Both subcommands share ONE deterministic generator (random.Random(seed)), so the receiver
recomputes exactly what the sender sent; there is no side channel between them.

  send --iface IF --dst-mac MAC --count N --seed S [--encap mpls|nsh|srv6|mixed|all] [--flows F]
       [--family 4|6|both] [--labels-min A] [--labels-max B] [--drop-port P]
       [--inner-dst-mac MAC] [--batch B] [--gap-ms G] [--srv6-sid SID] [--srv6-expired SHARE]
       (+ the NSH generator options below)
      MPLS: Ethernet(type 0x8847) / label stack (A..B entries, varied per packet even inside a
      flow; label 16..1048575, TC 0..7, TTL 2..255, BoS on the last) / IPv4 or IPv6 / UDP or TCP /
      payload.
      NSH (RFC 8300, over Ethernet, type 0x894F): version 0, O bit sometimes, TTL 2..63,
      random SPI, SI 2..255; MD type 1 (16 random context bytes, Length 6) or MD type 2 (no TLV,
      one, several, or TLVs filling the header up to Length 63; random class/type, value lengths
      0..127 including ones that are not a multiple of 4, zero padded); next protocol IPv4 / IPv6
      (the IP packet follows the NSH) or Ethernet (an inner Ethernet frame, dst = --inner-dst-mac
      (default --dst-mac: the proxy ingress, so the kernel VNF routes it), src = the sender's MAC).
      mixed: every packet is MPLS or NSH at random (one run, one proxy instance).
      SRv6 (--encap srv6; all: MPLS, NSH and SRv6 at random): Ethernet / IPv6 to --srv6-sid (the
      proxy SID) / hop-by-hop, destination options sometimes / SRH with a per-packet segment list,
      Segments Left, tag, flags and TLVs (srv6_headers.py) / the IPv4 or IPv6 packet.
      Frames go out on IF through an AF_PACKET socket in paced batches; SENDING is printed just
      before the first frame leaves (the generation before it takes a while for large counts).

  recv --iface IF --count N --seed S [--consumed C] [--ip-hops H] [--mpls-ttl-dec D]
       [--nsh-dec E] [--egress-mac MAC] [--nsh-outer-dst MAC]
       [--timeout T] [--out result.json] (+ the generator options, which must match `send`)
      Listens on IF with an AF_PACKET/ETH_P_ALL socket (prints READY when listening), collects
      frames until every expected packet arrived or the timeout, then checks every packet:
        - arrived exactly once;
        - MPLS: label stack == sent stack minus its first C entries (labels, TC bits, TTLs of the
          lower entries unchanged), BoS only on the last, new top TTL == sent top TTL - D
          (D defaults to 1 when C > 0, else 0); a packet sent with exactly C labels must arrive
          as plain IP (ethertype 0x0800 / 0x86DD);
        - NSH: ethertype 0x894F and the NSH header byte-identical to the one sent except
          TTL - E and SI - E (E defaults to 1): every other byte (flags, Length, MD type, next
          protocol, SPI, context / TLVs / padding) is compared. Outer Ethernet: next protocol
          IPv4/IPv6: dst == this interface's MAC (as routed by the VNF); next protocol Ethernet:
          dst == --nsh-outer-dst (the config's Nsh:NextHopMac, or the sender's MAC) when given;
          src == --egress-mac (the proxy egress) when given. Next protocol Ethernet: the inner
          Ethernet frame is the one the VNF emitted: dst == this interface's MAC, src ==
          --egress-mac when given, type == the inner IP family;
        - inner IP packet byte-identical to the one sent except TTL/hop limit decremented by H
          (and the IPv4 header checksum, which must be valid);
        - payload intact (CRC32 carried in the payload).
        - SRv6: outer IPv6 header and extension headers byte-identical to the sent ones except
          Segments Left - 1, destination = the next segment, hop limit - 1 (End.AD, RFC 8754
          4.3.1.1); outer dst MAC == this interface's, src == --egress-mac; scapy's
          IPv6ExtHdrSegmentRouting reads the first 64 restored SRHs as well;
      SRv6 packets generated with hop limit 0/1 (--srv6-expired) must NOT arrive;
      NSH packets generated expired (--nsh-expired: TTL 1 or SI 0/1 on arrival) must NOT arrive;
      TTL 0 arrives as 63 (RFC 8300 2.2).
      Writes a JSON summary and exits 0 only if everything is ok.

  show --count N --seed S [...]: print the generated packets (debugging aid).

Packets are identified by (flow id, sequence number) carried in the payload:
  b"SFCP" | flow u16 | seq u32 | packet index u32 | random bytes | crc32(all previous) u32
Every packet is distinct in its IPv4 id (IPv6: flow label is per flow), TCP sequence number and
payload, so a header-hash key can tell them apart.

With --drop-port P, flow 0 is UDP to destination port P: a VNF that drops that port must drop those
packets; any of them arriving is reported as "leaked".

Checking the checker without a proxy (direct veth pair, frames arrive exactly as sent):
  send --dst-mac RCV_MAC --inner-dst-mac RCV_MAC ...; recv --consumed 0 --ip-hops 0 --nsh-dec 0 ...
"""
import argparse
import json
import logging
import os
import random
import select
import socket
import struct
import sys
import time
import zlib

import srv6_headers

MAGIC = b"SFCP"
ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ETH_P_MPLS_UC = 0x8847
ETH_P_NSH = 0x894F
NSH_NP_IPV4, NSH_NP_IPV6, NSH_NP_ETHERNET = 1, 2, 3
NSH_MAX_BYTES = 63 * 4  # Length is 6 bits of 4-byte words
PACKET_OUTGOING = 4

SND_IP4, RCV_IP4 = "198.18.1.1", "198.18.2.1"
SND_IP6, RCV_IP6 = "2001:2:1::1", "2001:2:2::1"


# --------------------------------------------------------------------------------------------
# Generator (shared by send / recv / show)
# --------------------------------------------------------------------------------------------
class Pkt:
    __slots__ = ("index", "flow", "seq", "family", "proto", "labels", "inner", "dport",
                 "encap", "nsh", "expired", "srv6")

    def __init__(self, index, flow, seq, family, proto, labels, inner, dport,
                 encap="mpls", nsh=None, expired=False, srv6=None):
        self.index = index
        self.flow = flow
        self.seq = seq
        self.family = family
        self.proto = proto
        self.labels = labels  # MPLS: list of (label, tc, ttl), top first
        self.inner = inner  # bytes of the IP packet as sent
        self.dport = dport
        self.encap = encap  # "mpls" | "nsh" | "srv6"
        self.nsh = nsh  # NSH: the header as sent (bytes, 4 * Length)
        self.expired = expired  # NSH TTL 1 or SI <= 1, SRv6 hop limit <= 1: the proxy must drop it
        self.srv6 = srv6  # SRv6: srv6_headers.Srv6Hdr (outer IPv6 + extension headers as sent)

    @property
    def nsh_np(self):
        return self.nsh[3] if self.nsh else 0

    @property
    def key(self):
        return (self.flow, self.seq)


def flow_plan(flows, family, drop_port):
    plan = []
    for f in range(flows):
        if family == "4":
            fam = 4
        elif family == "6":
            fam = 6
        else:
            fam = 4 if f % 2 == 0 else 6
        proto = "udp" if (f // 2) % 2 == 0 else "tcp"
        dport = 5000 + f
        if drop_port is not None and f == 0:
            proto, dport = "udp", drop_port
        plan.append({"family": fam, "proto": proto, "sport": 20000 + f, "dport": dport})
    return plan


def label_bytes(labels):
    out = b""
    for i, (label, tc, ttl) in enumerate(labels):
        bos = 1 if i == len(labels) - 1 else 0
        out += struct.pack("!I", (label << 12) | (tc << 9) | (bos << 8) | ttl)
    return out


def nsh_ttl(b):
    return ((b[0] & 0x0F) << 2) | (b[1] >> 6)


def nsh_fields(b):
    """Decoded NSH base + service path header (diagnostics)."""
    if len(b) < 8:
        return {"short": b.hex()}
    return {"ver": b[0] >> 6, "o": (b[0] >> 5) & 1, "u": (b[0] >> 4) & 1, "ttl": nsh_ttl(b),
            "len": b[1] & 0x3F, "u4": b[2] >> 4, "md": b[2] & 0x0F, "np": b[3],
            "spi": int.from_bytes(b[4:7], "big"), "si": b[7], "bytes": len(b)}


def fmt_nsh(b):
    f = nsh_fields(b)
    if "short" in f:
        return f"<short NSH {f['short']}>"
    return (f"NSH(v{f['ver']} O={f['o']} ttl={f['ttl']} len={f['len']} md={f['md']} np={f['np']} "
            f"spi={f['spi']:#x} si={f['si']}, {f['bytes']}B)")


def nsh_forwarded(nsh, dec):
    """The NSH header one SFF/SF hop later: TTL - dec, SI - dec, every other byte unchanged."""
    b = bytearray(nsh)
    ttl = (nsh_ttl(b) - dec) & 0x3F
    b[0] = (b[0] & 0xF0) | (ttl >> 2)
    b[1] = ((ttl & 3) << 6) | (b[1] & 0x3F)
    b[7] = (b[7] - dec) & 0xFF
    return bytes(b)


def gen_nsh(rng, args, family, may_expire):
    """-> (nsh header bytes, expired). Draws only from rng (deterministic)."""
    mdtype = 1 if rng.random() < 0.5 else 2
    if mdtype == 1:
        meta = rng.randbytes(16)
    else:
        shape = rng.choice(["none", "one", "several", "full"])
        ntlv = {"none": 0, "one": 1, "several": rng.randint(2, 8), "full": 1 << 30}[shape]
        room = NSH_MAX_BYTES - 8  # bytes for TLVs; always a multiple of 4
        meta = b""
        while ntlv > 0 and room >= 4:
            if shape == "full" and room - 4 <= 128:
                # last TLV: its padded value fills the header exactly up to Length 63
                target = room - 4
                vlen = 0 if target == 0 else rng.randint(max(0, target - 3), min(127, target))
            else:
                vlen = rng.randint(0, min(127, room - 4))
            pad = (-vlen) % 4
            u = rng.getrandbits(1) if args.nsh_u_bits else 0
            meta += struct.pack("!HBB", rng.getrandbits(16), rng.getrandbits(8), (u << 7) | vlen)
            meta += rng.randbytes(vlen) + b"\0" * pad
            room -= 4 + vlen + pad
            ntlv -= 1
    length = (8 + len(meta)) // 4
    assert (8 + len(meta)) % 4 == 0 and 2 <= length <= 63
    expired = may_expire and rng.random() < args.nsh_expired
    if expired:
        if rng.random() < 0.5:
            ttl, si = 1, rng.randint(2, 255)
        else:
            ttl, si = rng.randint(2, 63), rng.choice([0, 1, 1, 1])
    else:
        # TTL 0 arrives too: RFC 8300 2.2 decrements it to 63, it does not expire
        ttl, si = rng.choice([0] + list(range(2, 64))), rng.randint(2, 255)
    oam = 1 if rng.random() < 0.2 else 0
    if not args.nsh_no_ethernet and rng.random() < 1 / 3:
        np = NSH_NP_ETHERNET
    else:
        np = NSH_NP_IPV4 if family == 4 else NSH_NP_IPV6
    u1 = rng.getrandbits(1) if args.nsh_u_bits else 0
    u4 = rng.getrandbits(4) if args.nsh_u_bits else 0
    spi = rng.getrandbits(24)
    hdr = bytes([(oam << 5) | (u1 << 4) | (ttl >> 2), ((ttl & 3) << 6) | length, (u4 << 4) | mdtype, np])
    hdr += spi.to_bytes(3, "big") + bytes([si])
    return hdr + meta, expired


def generate(args):
    """Deterministic list of Pkt from (seed, count, flows, family, labels-min/max, drop-port)."""
    # scapy only builds the inner packets (checksums). Silence its "Interface lo: no address
    # assigned" warning inside fresh namespaces.
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6

    if args.flows < 1:
        raise SystemExit("--flows must be >= 1")
    if not (0 <= args.labels_min <= args.labels_max <= 16):
        raise SystemExit("need 0 <= --labels-min <= --labels-max <= 16")
    if args.count > 65536:
        raise SystemExit("--count must be <= 65536 (IPv4 ids must be distinct)")
    if not 0 <= args.nsh_expired < 1:
        raise SystemExit("need 0 <= --nsh-expired < 1")
    if not 0 <= args.srv6_expired < 1:
        raise SystemExit("need 0 <= --srv6-expired < 1")
    rng = random.Random(args.seed)
    plan = flow_plan(args.flows, args.family, args.drop_port)
    next_seq = [0] * args.flows
    id_base = rng.getrandbits(16)
    pkts = []
    for i in range(args.count):
        f = rng.randrange(args.flows)
        fp = plan[f]
        seq = next_seq[f]
        next_seq[f] += 1
        # --encap mpls draws exactly what the MPLS-only generator drew: old seeds still reproduce.
        # --encap mixed draws as before SRv6 existed: old seeds still reproduce.
        if args.encap == "mixed":
            encap = "nsh" if rng.random() < 0.5 else "mpls"
        elif args.encap == "all":
            encap = ("mpls", "nsh", "srv6")[rng.randrange(3)]
        else:
            encap = args.encap
        labels, nsh, expired, srv6 = [], None, False, None
        # Flow 0 (VNF drop port) never expires: a VNF must see all of it whatever the proxy does
        # with expired packets.
        may_expire = not (args.drop_port is not None and f == 0)
        if encap == "srv6":
            srv6 = srv6_headers.generate(rng, args.srv6_sid, fp["family"], args.srv6_expired if may_expire else 0)
            expired = srv6.expired
        elif encap == "mpls":
            k = rng.randint(args.labels_min, args.labels_max)
            labels = [(rng.randint(16, 1048575), rng.randint(0, 7), rng.randint(2, 255)) for _ in range(k)]
        else:
            nsh, expired = gen_nsh(rng, args, fp["family"], may_expire=may_expire)
        body = MAGIC + struct.pack("!HII", f, seq, i) + rng.randbytes(rng.randint(4, 160))
        payload = body + struct.pack("!I", zlib.crc32(body))
        if fp["proto"] == "udp":
            l4 = UDP(sport=fp["sport"], dport=fp["dport"])
        else:
            # Random (non-contiguous) sequence/ack numbers: distinct per packet, and GRO never
            # merges two of them.
            l4 = TCP(sport=fp["sport"], dport=fp["dport"], seq=rng.getrandbits(32),
                     ack=rng.getrandbits(32), flags="PA", window=rng.randint(1024, 65535))
        ttl = rng.randint(16, 64)
        tos = rng.randrange(0, 64) << 2  # DSCP only, no ECN bits
        if fp["family"] == 4:
            ip = IP(src=SND_IP4, dst=RCV_IP4, ttl=ttl, tos=tos, id=(id_base + i) & 0xFFFF, flags="DF")
        else:
            ip = IPv6(src=SND_IP6, dst=RCV_IP6, hlim=ttl, tc=tos, fl=(0x5F000 + f) & 0xFFFFF)
        inner = bytes(ip / l4 / payload)
        pkts.append(Pkt(i, f, seq, fp["family"], fp["proto"], labels, inner, fp["dport"],
                        encap=encap, nsh=nsh, expired=expired, srv6=srv6))
    return pkts


def frame_of(p, dst_mac, src_mac, inner_dst_mac=None):
    if p.encap == "srv6":
        return dst_mac + src_mac + struct.pack("!H", ETH_P_IPV6) + p.srv6.block(len(p.inner)) + p.inner
    if p.encap == "nsh":
        ip_type = struct.pack("!H", ETH_P_IP if p.family == 4 else ETH_P_IPV6)
        inner_eth = b""
        if p.nsh_np == NSH_NP_ETHERNET:
            inner_eth = (inner_dst_mac or dst_mac) + src_mac + ip_type
        return dst_mac + src_mac + struct.pack("!H", ETH_P_NSH) + p.nsh + inner_eth + p.inner
    if p.labels:
        etype = ETH_P_MPLS_UC
    else:
        etype = ETH_P_IP if p.family == 4 else ETH_P_IPV6
    return dst_mac + src_mac + struct.pack("!H", etype) + label_bytes(p.labels) + p.inner


def mac_bytes(s):
    b = bytes(int(x, 16) for x in s.split(":"))
    if len(b) != 6:
        raise SystemExit(f"bad MAC {s!r}")
    return b


# --------------------------------------------------------------------------------------------
# send
# --------------------------------------------------------------------------------------------
def cmd_send(args):
    pkts = generate(args)
    # Cross-check our hand-made label encoding against scapy's MPLS layer once (the brief asks
    # for scapy's contrib MPLS; the frames are byte-identical).
    from scapy.contrib.mpls import MPLS
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    for p in [p for p in pkts if p.encap == "mpls"][:8]:
        if not p.labels:
            continue
        s = Ether(dst=args.dst_mac, src="02:00:00:00:00:01", type=ETH_P_MPLS_UC)
        for j, (label, tc, ttl) in enumerate(p.labels):
            s = s / MPLS(label=label, cos=tc, s=1 if j == len(p.labels) - 1 else 0, ttl=ttl)
        s = s / Raw(p.inner)
        mine = frame_of(p, mac_bytes(args.dst_mac), mac_bytes("02:00:00:00:00:01"))
        if bytes(s) != mine:
            raise SystemExit("internal error: label encoding differs from scapy MPLS")
    check_nsh_with_scapy(pkts, args)
    for p in [p for p in pkts if p.encap == "srv6"][:64]:
        problem = srv6_headers.check_with_scapy(p.srv6, p.srv6.block(len(p.inner)), forwarded=False)
        if problem:
            raise SystemExit(f"internal error: SRv6 packet {p.index}: {problem}")

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((args.iface, 0))
    src_mac = sock.getsockname()[4][:6]
    dst = mac_bytes(args.dst_mac)
    inner_dst = mac_bytes(args.inner_dst_mac) if args.inner_dst_mac else dst
    frames = [frame_of(p, dst, src_mac, inner_dst) for p in pkts]
    # The frames are built: a test that must act while traffic flows waits for this line.
    print("SENDING", flush=True)
    t0 = time.time()
    sent = 0
    for start in range(0, len(frames), args.batch):
        for fr in frames[start:start + args.batch]:
            while True:
                try:
                    sock.send(fr)
                    break
                except BlockingIOError:
                    time.sleep(0.0005)
                except OSError as e:  # ENOBUFS: qdisc full, back off
                    if e.errno != 105:
                        raise
                    time.sleep(0.001)
            sent += 1
        if args.gap_ms > 0:
            time.sleep(args.gap_ms / 1000.0)
    elapsed = time.time() - t0
    print(json.dumps({"sent": sent, "elapsed_s": round(elapsed, 3), **composition(pkts)}), flush=True)
    return 0


def composition(pkts):
    """What the generator made (printed by send, recorded by recv)."""
    hist = {}
    for p in pkts:
        if p.encap == "mpls":
            hist[len(p.labels)] = hist.get(len(p.labels), 0) + 1
    c = {"v4": sum(1 for p in pkts if p.family == 4),
         "v6": sum(1 for p in pkts if p.family == 6),
         "tcp": sum(1 for p in pkts if p.proto == "tcp"),
         "udp": sum(1 for p in pkts if p.proto == "udp"),
         "mpls": sum(1 for p in pkts if p.encap == "mpls"),
         "labels_histogram": {str(k): v for k, v in sorted(hist.items())}}
    nsh = [p for p in pkts if p.encap == "nsh"]
    if nsh:
        c["nsh"] = {
            "total": len(nsh),
            "md1": sum(1 for p in nsh if p.nsh[2] & 0x0F == 1),
            "md2": sum(1 for p in nsh if p.nsh[2] & 0x0F == 2),
            "md2_no_tlv": sum(1 for p in nsh if p.nsh[2] & 0x0F == 2 and len(p.nsh) == 8),
            "md2_len63": sum(1 for p in nsh if p.nsh[1] & 0x3F == 63),
            "np_ipv4": sum(1 for p in nsh if p.nsh_np == NSH_NP_IPV4),
            "np_ipv6": sum(1 for p in nsh if p.nsh_np == NSH_NP_IPV6),
            "np_ethernet": sum(1 for p in nsh if p.nsh_np == NSH_NP_ETHERNET),
            "oam": sum(1 for p in nsh if p.nsh[0] & 0x20),
            "expired": sum(1 for p in nsh if p.expired),
            "max_length_words": max(p.nsh[1] & 0x3F for p in nsh),
        }
    srv6 = [p.srv6 for p in pkts if p.encap == "srv6"]
    if srv6:
        c["srv6"] = {
            "total": len(srv6),
            "max_segments": max(len(h.segments) for h in srv6),
            "reduced": sum(1 for h in srv6 if h.reduced),
            "hmac": sum(1 for h in srv6 if "hmac" in h.tlvs),
            "other_tlvs": sum(1 for h in srv6 if h.tlvs and "hmac" not in h.tlvs),
            "hop_by_hop": sum(1 for h in srv6 if h.chain[0][0] == srv6_headers.NH_HOPOPT),
            "dest_options": sum(1 for h in srv6 if any(t == srv6_headers.NH_DSTOPTS for t, _ in h.chain)),
            "distinct_headers": len({h.block(0) for h in srv6}),
            "expired": sum(1 for h in srv6 if h.expired),
        }
    return c


def md2_tlvs(meta):
    """[(class, type, u, vlen, value)] of MD type 2 metadata; raises if a TLV overruns."""
    out, off = [], 0
    while off < len(meta):
        cls, typ, ul = struct.unpack("!HBB", meta[off:off + 4])
        vlen = ul & 0x7F
        end = off + 4 + vlen + ((-vlen) % 4)
        if end > len(meta):
            raise ValueError(f"TLV at {off} overruns the header")
        out.append((cls, typ, ul >> 7, vlen, meta[off + 4:off + 4 + vlen]))
        off = end
    return out


def check_nsh_with_scapy(pkts, args):
    """Cross-check the hand-made NSH headers against scapy.contrib.nsh once. scapy's NSH builds
    MD type 1 correctly but counts MD type 2 TLV lengths in 4-byte words (RFC 8300: bytes), so
    MD type 2 is checked field by field: base header via scapy, TLVs via our own parser."""
    nsh = [p for p in pkts if p.encap == "nsh"]
    if not nsh:
        return
    from scapy.contrib.nsh import NSH
    for p in nsh[:64]:
        f = nsh_fields(p.nsh)
        if f["md"] == 1:
            s = NSH(ver=0, oam=f["o"], unused1=f["u"], ttl=f["ttl"], length=6, unused2=f["u4"], mdtype=1,
                    nextproto=f["np"], spi=f["spi"], si=f["si"], context_header=p.nsh[8:24])
            if bytes(s) != p.nsh:
                raise SystemExit(f"internal error: NSH MD1 differs from scapy: {bytes(s).hex()} != {p.nsh.hex()}")
        else:
            d = NSH(p.nsh[:8])  # base header only
            got = (d.ver, d.oam, d.ttl, d.length, d.mdtype, d.nextproto, d.spi, d.si)
            want = (0, f["o"], f["ttl"], len(p.nsh) // 4, 2, f["np"], f["spi"], f["si"])
            if got != want:
                raise SystemExit(f"internal error: NSH MD2 base header {got} != {want}")
            tlvs = md2_tlvs(p.nsh[8:])
            if 8 + sum(4 + t[3] + (-t[3]) % 4 for t in tlvs) != len(p.nsh):
                raise SystemExit("internal error: NSH MD2 TLVs do not fill the header")


# --------------------------------------------------------------------------------------------
# recv
# --------------------------------------------------------------------------------------------
def ip_csum(hdr: bytes) -> int:
    s = sum(struct.unpack(f"!{len(hdr) // 2}H", hdr))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def expected_inner(p, ip_hops, ttl_cap=255):
    """The inner packet as it must arrive: IP TTL / hop limit down by the VNF's hops, and, when the
    proxy popped the last label, no higher than that label's TTL after the proxy's decrement
    (RFC 3032 2.4.3, RFC 3443 uniform model: the TTL never grows)."""
    b = bytearray(p.inner)
    if p.family == 4:
        b[8] = min(b[8] - ip_hops, ttl_cap)
        ihl = (b[0] & 0x0F) * 4
        b[10:12] = b"\0\0"
        b[10:12] = struct.pack("!H", ip_csum(bytes(b[:ihl])))
    else:
        b[7] = min(b[7] - ip_hops, ttl_cap)
    return bytes(b)


def parse_frame(fr):
    """-> dict(etype, dst, src, labels=[(label, tc, bos, ttl)], nsh=bytes|None,
    inner_eth=bytes|None, inner=bytes, key=(flow, seq) or None, err)"""
    r = {"etype": None, "labels": [], "nsh": None, "srv6": None, "inner_eth": None, "inner": b"", "key": None, "err": None,
         "dst": fr[0:6], "src": fr[6:12]}
    if len(fr) < 14:
        r["err"] = "runt frame"
        return r
    etype = struct.unpack("!H", fr[12:14])[0]
    r["etype"] = etype
    off = 14
    if etype == ETH_P_NSH:
        if len(fr) < off + 8:
            r["err"] = "truncated NSH"
            return r
        nlen = (fr[off + 1] & 0x3F) * 4
        if nlen < 8 or len(fr) < off + nlen:
            r["err"] = f"bad NSH Length {nlen // 4} ({len(fr) - off} bytes after Ethernet)"
            return r
        r["nsh"] = fr[off:off + nlen]
        np = fr[off + 3]
        off += nlen
        if np == NSH_NP_ETHERNET:
            if len(fr) < off + 14:
                r["err"] = "truncated inner Ethernet"
                return r
            r["inner_eth"] = fr[off:off + 14]
            off += 14
        elif np not in (NSH_NP_IPV4, NSH_NP_IPV6):
            r["err"] = f"NSH next protocol {np}"
            return r
    elif etype == ETH_P_MPLS_UC:
        while True:
            if off + 4 > len(fr) or len(r["labels"]) > 16:
                r["err"] = "label stack without BoS"
                return r
            v = struct.unpack("!I", fr[off:off + 4])[0]
            off += 4
            r["labels"].append((v >> 12, (v >> 9) & 7, (v >> 8) & 1, v & 0xFF))
            if v & 0x100:
                break
    elif etype == ETH_P_IPV6 and (parts := srv6_headers.split(fr[off:])) is not None:
        r["srv6"] = parts[0]
        off += len(parts[0])
    elif etype not in (ETH_P_IP, ETH_P_IPV6):
        r["err"] = f"ethertype 0x{etype:04x}"
        return r
    ip = fr[off:]
    if not ip:
        r["err"] = "no inner packet"
        return r
    ver = ip[0] >> 4
    if ver == 4 and len(ip) >= 20:
        tot = struct.unpack("!H", ip[2:4])[0]
        ip = ip[:tot]  # drop Ethernet padding
        ihl = (ip[0] & 0x0F) * 4
        proto = ip[9]
        l4 = ip[ihl:]
    elif ver == 6 and len(ip) >= 40:
        plen = struct.unpack("!H", ip[4:6])[0]
        ip = ip[:40 + plen]
        proto = ip[6]
        l4 = ip[40:]
    else:
        r["err"] = f"inner packet is not IP (version {ver})"
        return r
    r["inner"] = ip
    if proto == 17:
        pl = l4[8:]
    elif proto == 6 and len(l4) >= 20:
        pl = l4[(l4[12] >> 4) * 4:]
    else:
        r["err"] = f"inner protocol {proto}"
        return r
    if len(pl) < 14 or pl[:4] != MAGIC:
        r["err"] = "payload without SFCP magic"
        return r
    flow, seq = struct.unpack("!HI", pl[4:10])
    r["key"] = (flow, seq)
    r["payload"] = pl
    return r


def payload_ok(pl):
    if len(pl) < 18:
        return False
    return zlib.crc32(pl[:-4]) == struct.unpack("!I", pl[-4:])[0]


def cmd_recv(args):
    pkts = generate(args)  # before READY: generation must not eat capture time
    dec = args.mpls_ttl_dec if args.mpls_ttl_dec is not None else (1 if args.consumed > 0 else 0)
    drop_flow = 0 if args.drop_port is not None else None
    by_key = {p.key: p for p in pkts}
    deliverable = [p for p in pkts if p.flow != drop_flow and not p.expired]
    egress_mac = mac_bytes(args.egress_mac) if args.egress_mac else None
    nsh_outer_dst = mac_bytes(args.nsh_outer_dst) if args.nsh_outer_dst else None

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    for opt in (33, socket.SO_RCVBUF):  # 33 = SO_RCVBUFFORCE (root), fall back to SO_RCVBUF
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, 64 * 1024 * 1024)
            break
        except OSError:
            continue
    sock.bind((args.iface, ETH_P_ALL))
    own_mac = sock.getsockname()[4][:6]
    sock.setblocking(False)
    print("READY", flush=True)

    frames = []
    seen = set()
    t0 = time.time()
    deadline = t0 + args.timeout
    linger_until = None
    while True:
        now = time.time()
        end = deadline if linger_until is None else min(deadline, linger_until)
        if now >= end:
            break
        r, _, _ = select.select([sock], [], [], min(0.2, end - now))
        if not r:
            continue
        while True:
            try:
                fr, addr = sock.recvfrom(65535)
            except BlockingIOError:
                break
            if addr[2] == PACKET_OUTGOING or MAGIC not in fr:
                continue
            frames.append(fr)
            pr = parse_frame(fr)
            if pr["key"] is not None:
                seen.add(pr["key"])
        if linger_until is None and all(p.key in seen for p in deliverable):
            # everything is here: wait a little longer to catch duplicates/leaks, then stop
            linger_until = time.time() + args.linger
    capture_s = time.time() - t0

    errors = []

    def err(msg):
        if len(errors) < args.max_errors:
            errors.append(msg)

    counts = {}
    status = {}  # key -> list of problems of the first copy
    unexpected = 0
    leaked = 0
    expired_delivered = 0
    scapy_left = 64  # restored SRv6 headers scapy dissects as well
    for fr in frames:
        pr = parse_frame(fr)
        key = pr["key"]
        if key is None or key not in by_key:
            unexpected += 1
            err(f"unexpected frame ({pr['err'] or 'unknown id %r' % (key,)}): {fr[:64].hex()}")
            continue
        counts[key] = counts.get(key, 0) + 1
        if counts[key] > 1:
            continue
        p = by_key[key]
        if p.expired:
            leaked += 1
            expired_delivered += 1
            what = p.srv6.describe() if p.encap == "srv6" else fmt_nsh(p.nsh)
            err(f"{key} idx={p.index}: expired {p.encap} ({what}) arrived: the proxy must drop it")
            continue
        if p.flow == drop_flow:
            leaked += 1
            err(f"{key}: packet to dropped UDP port {args.drop_port} arrived (VNF did not drop it)")
            continue
        probs = []
        if p.encap == "nsh":
            probs += check_nsh(p, pr, args, own_mac, egress_mac, nsh_outer_dst)
        if p.encap == "srv6":
            probs += check_srv6(p, pr, own_mac, egress_mac, scapy_left)
            scapy_left -= 1
        # --- label stack
        want = p.labels[args.consumed:] if args.consumed <= len(p.labels) else None
        if p.encap != "mpls":
            pass
        elif want is None:
            probs.append(("stack", f"sent {len(p.labels)} labels < consumed {args.consumed}: should not arrive"))
        elif not want:
            if pr["etype"] not in (ETH_P_IP, ETH_P_IPV6) or pr["labels"]:
                probs.append(("stack", f"expected plain IP, got ethertype 0x{pr['etype']:04x} labels {pr['labels']}"))
            else:
                exp_et = ETH_P_IP if p.family == 4 else ETH_P_IPV6
                if pr["etype"] != exp_et:
                    probs.append(("stack", f"ethertype 0x{pr['etype']:04x} != 0x{exp_et:04x}"))
        else:
            got = pr["labels"]
            if pr["etype"] != ETH_P_MPLS_UC:
                probs.append(("stack", f"expected {len(want)} labels, got ethertype 0x{pr['etype']:04x}"))
            elif len(got) != len(want):
                probs.append(("stack", f"sent {fmt_stack(p.labels)}, want {fmt_stack(want)} got {fmt_got(got)}"))
            else:
                top_ttl = p.labels[0][2] - dec
                for j, ((wl, wtc, wttl), (gl, gtc, gbos, gttl)) in enumerate(zip(want, got)):
                    exp_ttl = top_ttl if j == 0 else wttl
                    exp_bos = 1 if j == len(want) - 1 else 0
                    if gl != wl or gtc != wtc or gbos != exp_bos or gttl != exp_ttl:
                        probs.append(("stack", f"entry {j}: want label={wl} tc={wtc} bos={exp_bos} ttl={exp_ttl}, "
                                               f"got label={gl} tc={gtc} bos={gbos} ttl={gttl} "
                                               f"(sent {fmt_stack(p.labels)})"))
                        break
        # --- inner packet
        last_pop = p.encap == "mpls" and want is not None and not want and args.consumed > 0
        exp = expected_inner(p, args.ip_hops, p.labels[0][2] - dec if last_pop else 255)
        inner = pr["inner"]
        hl = 20 if p.family == 4 else 40
        if inner != exp:
            if inner[hl:] != exp[hl:]:
                why = "payload CRC ok" if payload_ok(pr.get("payload", b"")) else "payload CRC BAD"
                probs.append(("payload", f"L4 header/payload differs ({why}): got {inner[hl:hl + 32].hex()} "
                                         f"want {exp[hl:hl + 32].hex()}"))
            else:
                probs.append(("ip", f"IP header differs: got {inner[:hl].hex()} want {exp[:hl].hex()} "
                                    f"(ip-hops {args.ip_hops})"))
        if p.family == 4 and len(inner) >= 20 and ip_csum(inner[:20]) != 0:
            probs.append(("ip", "IPv4 header checksum invalid"))
        status[key] = probs
        for kind, msg in probs:
            err(f"{key} idx={p.index} v{p.family}/{p.proto} {p.encap}: {kind}: {msg}")

    missing = [p for p in deliverable if p.key not in counts]
    for p in missing[:5]:
        what = (fmt_nsh(p.nsh) if p.encap == "nsh" else p.srv6.describe() if p.encap == "srv6"
                else f"labels={len(p.labels)}")
        err(f"{p.key} idx={p.index} v{p.family}/{p.proto} {what}: missing")
    dups = sum(1 for k, c in counts.items() if c > 1)
    for k in [k for k, c in counts.items() if c > 1][:5]:
        err(f"{k}: arrived {counts[k]} times")
    ok = sum(1 for p in deliverable if counts.get(p.key) == 1 and not status.get(p.key))
    wrong_stack = sum(1 for v in status.values() if any(k == "stack" for k, _ in v))
    wrong_ip = sum(1 for v in status.values() if any(k == "ip" for k, _ in v))
    wrong_payload = sum(1 for v in status.values() if any(k == "payload" for k, _ in v))
    wrong_nsh = sum(1 for v in status.values() if any(k == "nsh" for k, _ in v))
    wrong_eth = sum(1 for v in status.values() if any(k == "eth" for k, _ in v))
    wrong_srv6 = sum(1 for v in status.values() if any(k == "srv6" for k, _ in v))

    def ok_of(encap):
        return sum(1 for p in deliverable
                   if p.encap == encap and counts.get(p.key) == 1 and not status.get(p.key))

    summary = {
        "expected": len(deliverable),
        # dropped by the VNF (flow 0 to --drop-port)
        "expected_dropped": sum(1 for p in pkts if p.flow == drop_flow and not p.expired),
        # NSH TTL/SI exhausted: dropped by the proxy
        "expected_expired": sum(1 for p in pkts if p.expired),
        "expected_mpls": sum(1 for p in deliverable if p.encap == "mpls"),
        "expected_nsh": sum(1 for p in deliverable if p.encap == "nsh"),
        "expected_srv6": sum(1 for p in deliverable if p.encap == "srv6"),
        "ok_mpls": ok_of("mpls"),
        "ok_nsh": ok_of("nsh"),
        "ok_srv6": ok_of("srv6"),
        "received": len(frames),
        "ok": ok,
        "missing": len(missing),
        "wrong_stack": wrong_stack,
        "wrong_ip": wrong_ip,
        "wrong_payload": wrong_payload,
        "wrong_nsh": wrong_nsh,
        "wrong_eth": wrong_eth,
        "wrong_srv6": wrong_srv6,
        "duplicates": dups,
        "unexpected": unexpected,
        "leaked": leaked,
        "expired_delivered": expired_delivered,
        "all_ok": ok == len(deliverable) and unexpected == 0 and dups == 0 and leaked == 0,
        "capture_s": round(capture_s, 3),
        "params": {"count": args.count, "seed": args.seed, "flows": args.flows, "family": args.family,
                   "labels": [args.labels_min, args.labels_max], "consumed": args.consumed,
                   "ip_hops": args.ip_hops, "mpls_ttl_dec": dec, "drop_port": args.drop_port,
                   "encap": args.encap, "nsh_dec": args.nsh_dec, "nsh_ethernet": not args.nsh_no_ethernet,
                   "nsh_expired": args.nsh_expired, "nsh_u_bits": args.nsh_u_bits,
                   "egress_mac": args.egress_mac, "nsh_outer_dst": args.nsh_outer_dst},
        "sent": composition(pkts),
        "first_errors": errors,
    }
    text = json.dumps(summary, indent=1)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)
    print(text, flush=True)
    return 0 if summary["all_ok"] else 1


def mac_str(b):
    return ":".join(f"{x:02x}" for x in b)


def check_nsh(p, pr, args, own_mac, egress_mac, nsh_outer_dst):
    """Problems [(kind, msg)] of an NSH packet's Ethernet + NSH headers (the IP part is checked
    by the caller, as for MPLS)."""
    probs = []
    if pr["etype"] != ETH_P_NSH or pr["nsh"] is None:
        probs.append(("nsh", f"expected NSH (0x894f), got ethertype 0x{pr['etype']:04x} "
                             f"(sent {fmt_nsh(p.nsh)})"))
        return probs
    want = nsh_forwarded(p.nsh, args.nsh_dec)
    got = pr["nsh"]
    if got != want:
        diff = [i for i in range(max(len(got), len(want)))
                if i >= len(got) or i >= len(want) or got[i] != want[i]]
        probs.append(("nsh", f"header differs at byte(s) {diff[:8]}{'...' if len(diff) > 8 else ''}: "
                             f"sent {fmt_nsh(p.nsh)}, want {fmt_nsh(want)}, got {fmt_nsh(got)}; "
                             f"want {want[:32].hex()} got {got[:32].hex()}"))
    np = p.nsh_np
    exp_dst = own_mac if np != NSH_NP_ETHERNET else nsh_outer_dst
    if exp_dst is not None and pr["dst"] != exp_dst:
        probs.append(("eth", f"outer dst {mac_str(pr['dst'])} != {mac_str(exp_dst)} (NSH np {np})"))
    if egress_mac is not None and pr["src"] != egress_mac:
        probs.append(("eth", f"outer src {mac_str(pr['src'])} != proxy egress {mac_str(egress_mac)}"))
    if np == NSH_NP_ETHERNET:
        ie = pr["inner_eth"]
        if ie is None:
            probs.append(("eth", "next protocol Ethernet but no inner Ethernet header"))
            return probs
        exp_type = ETH_P_IP if p.family == 4 else ETH_P_IPV6
        if ie[0:6] != own_mac:
            probs.append(("eth", f"inner dst {mac_str(ie[0:6])} != receiver {mac_str(own_mac)}"))
        if egress_mac is not None and ie[6:12] != egress_mac:
            probs.append(("eth", f"inner src {mac_str(ie[6:12])} != proxy egress {mac_str(egress_mac)}"))
        if struct.unpack("!H", ie[12:14])[0] != exp_type:
            probs.append(("eth", f"inner ethertype 0x{ie[12:14].hex()} != 0x{exp_type:04x}"))
    return probs


def check_srv6(p, pr, own_mac, egress_mac, scapy_left):
    """Problems [(kind, msg)] of an SRv6 packet's Ethernet + outer IPv6 + extension headers: byte
    for byte what End.AD makes of the sent ones (srv6_headers.Srv6Hdr.block), and, for the first
    few, scapy's reading of the restored SRH."""
    probs = []
    if pr["srv6"] is None:
        return [("srv6", f"no outer IPv6 + SRH (ethertype 0x{pr['etype']:04x}; sent {p.srv6.describe()})")]
    want = p.srv6.block(len(p.inner), forwarded=True)
    got = pr["srv6"]
    if got != want:
        diff = [i for i in range(max(len(got), len(want))) if i >= len(got) or i >= len(want) or got[i] != want[i]]
        probs.append(("srv6", f"headers differ at byte(s) {diff[:8]}{'...' if len(diff) > 8 else ''} "
                              f"(sent {p.srv6.describe()}): want {want[:48].hex()}... got {got[:48].hex()}..."))
    elif scapy_left > 0 and (problem := srv6_headers.check_with_scapy(p.srv6, got, forwarded=True)):
        probs.append(("srv6", problem))
    if pr["dst"] != own_mac:
        probs.append(("eth", f"outer dst {mac_str(pr['dst'])} != receiver {mac_str(own_mac)}"))
    if egress_mac is not None and pr["src"] != egress_mac:
        probs.append(("eth", f"outer src {mac_str(pr['src'])} != proxy egress {mac_str(egress_mac)}"))
    return probs


def fmt_stack(labels):
    return "[" + ", ".join(f"{l}/tc{tc}/ttl{ttl}" for l, tc, ttl in labels) + "]"


def fmt_got(got):
    return "[" + ", ".join(f"{l}/tc{tc}/s{b}/ttl{ttl}" for l, tc, b, ttl in got) + "]"


def cmd_show(args):
    for p in generate(args):
        if p.encap == "srv6":
            hdr = f"{p.srv6.describe()}{' EXPIRED' if p.expired else ''} {p.srv6.block(len(p.inner)).hex()}"
        elif p.encap == "nsh":
            hdr = f"{fmt_nsh(p.nsh)}{' EXPIRED' if p.expired else ''} {p.nsh.hex()}"
        else:
            hdr = f"labels={fmt_stack(p.labels)}"
        print(f"idx={p.index} flow={p.flow} seq={p.seq} v{p.family}/{p.proto} dport={p.dport} "
              f"{hdr} inner={len(p.inner)}B {p.inner[:28].hex()}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def gen_opts(p):
        p.add_argument("--count", type=int, required=True)
        p.add_argument("--seed", type=int, required=True)
        p.add_argument("--flows", type=int, default=8)
        p.add_argument("--family", choices=["4", "6", "both"], default="both")
        p.add_argument("--labels-min", type=int, default=1)
        p.add_argument("--labels-max", type=int, default=5)
        p.add_argument("--drop-port", type=int, default=None,
                       help="flow 0 is UDP to this port and must be dropped by the VNF")
        p.add_argument("--encap", choices=["mpls", "nsh", "srv6", "mixed", "all"], default="mpls",
                       help="mixed: MPLS and NSH at random; all: MPLS, NSH and SRv6 at random")
        p.add_argument("--srv6-sid", default="2001:2:0:ff::100", help="the proxy SID (Srv6:Sids) SRv6 packets go to")
        p.add_argument("--srv6-expired", type=float, default=0.0,
                       help="share of SRv6 packets sent with hop limit 0/1 (the proxy must drop them)")
        p.add_argument("--nsh-no-ethernet", action="store_true",
                       help="no NSH next protocol Ethernet (a TUN VNF carries IP only)")
        p.add_argument("--nsh-expired", type=float, default=0.0,
                       help="share of NSH packets sent with TTL or SI 0/1 (the proxy must drop them)")
        p.add_argument("--nsh-u-bits", action="store_true",
                       help="set the NSH unassigned bits at random (they must be restored as sent)")

    s = sub.add_parser("send")
    gen_opts(s)
    s.add_argument("--iface", required=True)
    s.add_argument("--dst-mac", required=True)
    s.add_argument("--inner-dst-mac", default=None,
                   help="NSH next protocol Ethernet: inner dst MAC (default --dst-mac)")
    s.add_argument("--batch", type=int, default=16, help="frames per burst")
    s.add_argument("--gap-ms", type=float, default=1.0, help="pause between bursts")
    s.set_defaults(func=cmd_send)

    r = sub.add_parser("recv")
    gen_opts(r)
    r.add_argument("--iface", required=True)
    r.add_argument("--consumed", type=int, default=1)
    r.add_argument("--ip-hops", type=int, default=1)
    r.add_argument("--mpls-ttl-dec", type=int, default=None)
    r.add_argument("--nsh-dec", type=int, default=1, help="expected NSH TTL and SI decrement")
    r.add_argument("--egress-mac", default=None, help="proxy egress MAC: src of restored frames (NSH)")
    r.add_argument("--nsh-outer-dst", default=None,
                   help="NSH next protocol Ethernet: expected outer dst (Nsh:NextHopMac or the sender)")
    r.add_argument("--timeout", type=float, default=20.0)
    r.add_argument("--linger", type=float, default=0.5)
    r.add_argument("--max-errors", type=int, default=20)
    r.add_argument("--out", default=None)
    r.set_defaults(func=cmd_recv)

    sh = sub.add_parser("show")
    gen_opts(sh)
    sh.set_defaults(func=cmd_show)

    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
