#!/usr/bin/python3
"""Real-traffic corpus for the SfcProxy end-to-end lab (issue 11, "the method"): packet shapes that
real networks carry and that a header-derived key finds hard, sent with SR-MPLS or NSH headers
through the real daemon, and judged one by one at the receiver.

  send --iface IF --dst-mac MAC [--inner-dst-mac MAC] [--gap-ms G] [--burst-cpu N] (+ generator options)
  recv --iface IF [--ip-hops H] [--egress-mac MAC] [--nsh-outer-dst MAC] [--egress-ip4 A]
       [--egress-ip6 A] [--timeout T] [--linger L] [--out FILE] (+ generator options)
  show (+ generator options): print the corpus (debugging aid)

Generator options (identical for send and recv; the receiver regenerates what was sent from the
seed, there is no side channel): --count N (about N packets: the shape set is repeated in rounds),
--seed S, --family 4|6|both, --labels-min/--labels-max, --encap mpls|nsh|mixed (per group of
packets), --nsh-no-ethernet (TUN VNF), --consumed C (1), --drop-port P (the VNF drops UDP to P),
--vnf kernel|stateful|tun (what the receiver may count on the VNF's counters), --key-mode
metadata|header-hash, --egress-mtu M (the proxy egress MTU: enables the too-big shape),
--mark-xor-port P (metadata key: the VNF xors a key bit into the mark of UDP to P: those must
miss), --shapes a,b,... (default: all that apply). sfc_traffic.py's --flows/--nsh-expired/
--nsh-u-bits are accepted so the same lab code drives both scripts.

Shapes (each a group of packets sent back to back as one burst, so that they are inside the VNF
together; every packet carries its own random label stack or NSH header unless said otherwise):
  quic     QUIC-like UDP to 443: one connection's short-header packets (same length, constant first
           byte and DCID, random tails), and pairs whose UDP checksums are equal (IPv6, and IPv4
           with DF and id 0 as Linux sends unconnected UDP).
  dns      queries and answers (UDP 53, IPv4 DF id 0 and IPv6) and a retransmitted query (the
           same datagram twice with the same headers: both must arrive, a true duplicate).
  natt     NAT-T keepalives: 1-byte UDP 0xFF to port 4500 from several source ports (flows), IPv4
           DF id 0 and IPv6; and one keepalive repeated with the same headers.
  echo     ICMP / ICMPv6 echo requests without data, same sequence, different identifiers.
  v6ext    IPv6 with extension headers: TCP segments behind a hop-by-hop header that differ only
           in their sequence numbers, UDP behind hop-by-hop + destination options + routing
           (SRH, segments left 0) + destination options, TCP behind an atomic fragment header,
           UDP behind destination options.
  frag     fragmented UDP datagrams, IPv4 (DF clear) and IPv6 (fragment header, sometimes behind
           a hop-by-hop header), 2-4 pieces in order, reversed or shuffled; every piece of a
           datagram carries the same headers (as an upstream SFF labels them). Judged per
           datagram: pieces may be re-cut by a reassembling VNF (conntrack), IPv6 may get a new
           identification; every piece must carry the datagram's headers and together they must
           be exactly the datagram.
  icmperr  ICMP errors quoting a packet: port unreachable and time exceeded, IPv4 and IPv6.
  tcpretx  TCP retransmissions: the same segment twice with the same headers (both must arrive),
           pairs with the same seq/ack whose payload differs after its 4th byte (other headers:
           each its own), and the same segment twice with OTHER headers: each must arrive with its
           own, or (header-hash key, both in the VNF at once) the second is refused and counted
           rx_key_conflict; never with the other's.
  toobig   (--egress-mtu) DF packets that fit the egress without their headers but not with them:
           the receiver must get the ICMP error (fragmentation needed / packet too big) that the
           proxy sends along the chain with the packet's own restored headers, from the egress
           address, MTU = egress MTU - the pushed bytes, quoting the packet as the VNF emitted it;
           IPv4 without DF and an ICMP error that do not fit are dropped (tx_too_big).
  ttl      MPLS TTL rules: a last-segment stack with TTL 1 or 0 and a top TTL of 1 on a longer
           stack are never forwarded (tx_ttl_expired); a last pop caps the IP TTL at the popped TTL
           - 1; NSH TTL 0 arrives as 63, NSH TTL 1 is dropped (tx_ttl_expired).
  vnfdrop  UDP to --drop-port: the VNF drops it (it must not arrive).
  markxor  (--mark-xor-port) UDP to that port, its mark changed by the VNF: it must not arrive
           (a miss: tx_miss_drop), and no other packet may be hurt.

The receiver judges every frame: a non-fragment must be byte-identical to one expected packet
after the VNF (TTL - hops, IPv4 checksum), with that packet's own headers (stack minus the consumed
entries, top TTL - 1, BoS, or the NSH header with TTL and SI - 1, outer and inner Ethernet); no
packet may arrive more often than it was sent. It writes a JSON summary (all_ok, per-shape counts,
must_count: counters the proxy must show at least, counted_missing: packets missing under a counted
verdict, first_errors) and exits 0 only if all_ok.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sfc_traffic as st  # noqa: E402  (shared NSH generator, frame builder, L2 parser)

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.layers.dns import DNS, DNSQR, DNSRR  # noqa: E402
from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    ICMPv6DestUnreach, ICMPv6EchoRequest, ICMPv6TimeExceeded, IPv6, IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment, IPv6ExtHdrHopByHop, IPv6ExtHdrSegmentRouting, PadN)
from scapy.packet import Raw  # noqa: E402

SND4, RCV4, SND6, RCV6 = st.SND_IP4, st.RCV_IP4, st.SND_IP6, st.RCV_IP6
TAG = b"SFCC"  # + u32 item index: diagnostics only (identity is the exact bytes)
SHAPES = ["quic", "dns", "natt", "echo", "v6ext", "frag", "icmperr", "tcpretx", "toobig", "ttl",
          "vnfdrop", "markxor"]
# how a packet may end: must arrive / may be missing if counted / must not arrive
DELIVER, ICMP_BACK, MAYBE_CONFLICT, VNF_DROP, PROXY_DROP = "deliver", "icmp", "maybe_conflict", "vnf_drop", "proxy_drop"
MAX_NORMAL_IP = 1100  # largest ordinary packet: fits a 1400 egress with a 252-byte NSH + Ethernet


def csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ones_sum(b: bytes) -> int:
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def addr_bytes(a):
    return socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a)


# --------------------------------------------------------------------------------------------
# The corpus
# --------------------------------------------------------------------------------------------
class Item:
    """One frame as sent. encap/labels/nsh/family/inner/nsh_np: what sfc_traffic.frame_of reads."""
    __slots__ = ("idx", "shape", "what", "family", "encap", "labels", "nsh", "inner", "expect",
                 "counter", "dgram", "burst", "icmp_usable")

    def __init__(self, shape, what, family, hdr, inner, expect=DELIVER, counter=None):
        self.idx = -1
        self.shape = shape
        self.what = what
        self.family = family
        self.encap, self.labels, self.nsh = hdr
        self.inner = inner
        self.expect = expect
        self.counter = counter
        self.dgram = None
        self.burst = -1
        self.icmp_usable = None

    @property
    def nsh_np(self):
        return self.nsh[3] if self.nsh else 0

    def desc(self):
        h = st.fmt_nsh(self.nsh) if self.encap == "nsh" else st.fmt_stack(self.labels)
        return f"#{self.idx} {self.shape}/{self.what} v{self.family} {len(self.inner)}B {h}"


class Datagram:
    """A fragmented datagram: what the pieces must add up to, whoever re-cuts them."""
    __slots__ = ("idx", "family", "src", "dst", "proto", "ident", "ttl", "tos", "fl", "unfrag", "data",
                 "items", "pieces", "problems")

    def __init__(self, family, src, dst, proto, ident, ttl, tos, fl, unfrag, data):
        self.idx = -1
        self.family, self.src, self.dst, self.proto, self.ident = family, src, dst, proto, ident
        self.ttl, self.tos, self.fl, self.unfrag, self.data = ttl, tos, fl, unfrag, data
        self.items = []
        self.pieces = []  # (offset, length, more, ident) as they arrived
        self.problems = []


class Gen:
    def __init__(self, a):
        self.a = a
        self.rng = random.Random(a.seed)
        self.items = []
        self.bursts = []
        self.dgrams = []
        self.openers = []  # this round's flow openers, sent in a burst before the round's others
        self.markxor_bursts = 0
        fam = {"4": [4], "6": [6], "both": [4, 6]}[a.family]
        self.families = fam

    # ---- headers
    def encap(self):
        if self.a.encap == "mixed":
            return "nsh" if self.rng.random() < 0.5 else "mpls"
        return self.a.encap

    def hdr(self, family, encap=None, min_labels=None, max_labels=None, top_ttl=None):
        """(encap, labels, nsh) drawn at random."""
        r = self.rng
        encap = encap or self.encap()
        if encap == "mpls":
            lo = self.a.labels_min if min_labels is None else min_labels
            hi = max(lo, self.a.labels_max if max_labels is None else max_labels)
            k = r.randint(lo, hi)
            labels = [(r.randint(16, 1048575), r.randint(0, 7), r.randint(2, 255)) for _ in range(k)]
            if top_ttl is not None:
                labels[0] = (labels[0][0], labels[0][1], top_ttl)
            return ("mpls", labels, None)
        nsh, _ = st.gen_nsh(r, self.a, family, may_expire=False)
        return ("nsh", [], nsh)

    def other_hdr(self, family, hdr):
        """Headers of the same encapsulation that differ from hdr."""
        while True:
            h = self.hdr(family, encap=hdr[0])
            if h != hdr:
                return h

    def grow(self, hdr):
        """Bytes tc_tx pushes in front of the VNF's IP packet for these headers."""
        encap, labels, nsh = hdr
        if encap == "mpls":
            return 4 * max(0, len(labels) - self.a.consumed)
        return len(nsh) + (14 if nsh[3] == st.NSH_NP_ETHERNET else 0)

    # ---- packets
    def tag(self, n=0):
        return TAG + struct.pack("!I", len(self.items) + n)

    def ip(self, family, ttl=None, tos=None, df=True, ident=0, fl=None):
        r = self.rng
        ttl = ttl if ttl is not None else r.randint(16, 64)
        tos = tos if tos is not None else r.randrange(0, 64) << 2
        if family == 4:
            return IP(src=SND4, dst=RCV4, ttl=ttl, tos=tos, id=ident, flags="DF" if df else 0)
        return IPv6(src=SND6, dst=RCV6, hlim=ttl, tc=tos, fl=r.getrandbits(20) if fl is None else fl)

    def add(self, burst, item):
        item.idx = len(self.items)
        item.burst = len(self.bursts)
        self.items.append(item)
        burst.append(item)
        return item

    def fam(self):
        return self.rng.choice(self.families)

    def open_tcp(self, family, sport, dport, seq, ack, ext=None):
        """A TCP flow exists before its retransmissions: one pure ACK of the flow goes out in an
        earlier burst. A stateful VNF (conntrack) then knows the connection; without it, the
        segments of one new flow popped in one batch race to create its conntrack entry and all
        but one are dropped by the VNF (insert_failed)."""
        ipf = self.ip(family)
        inner = bytes(ipf / ext / TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags="A")) if ext is not None else \
            bytes(ipf / TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags="A"))
        self.add(self.openers, Item("tcpopen", "flow-opener", family, self.hdr(family), inner))

    # ---- shapes: each appends bursts
    def shape_quic(self):
        r = self.rng
        for family in self.families:
            dcid = r.randbytes(8)
            first = bytes([0x40 | r.getrandbits(2)])
            sport = r.randint(32768, 60999)
            length = r.randrange(40, 1000, 2)
            ipf = self.ip(family, ident=0)
            b = []
            for _ in range(4):  # one connection: same length, constant first bytes, random tails
                tail = self.tag() + r.randbytes(length - 9 - 8)
                pl = first + dcid + tail
                inner = bytes(ipf.copy() / UDP(sport=sport, dport=443) / pl)
                self.add(b, Item("quic", "short-header", family, self.hdr(family), inner))
            self.bursts.append(b)
            # a pair with equal UDP checksums (and equal first 4 payload bytes), other headers
            b = []
            pa = first + dcid + self.tag() + r.randbytes(length - 9 - 8)
            for _ in range(100):
                pb = bytearray(first + dcid + self.tag(1) + r.randbytes(length - 9 - 8))
                w = (ones_sum(pa) - ones_sum(bytes(pb[:-2]) + b"\0\0")) % 0xFFFF
                pb[-2:] = struct.pack("!H", w)
                ua = UDP(bytes(ipf.copy() / UDP(sport=sport, dport=443) / pa)[20 if family == 4 else 40:])
                ub = UDP(bytes(ipf.copy() / UDP(sport=sport, dport=443) / bytes(pb))[20 if family == 4 else 40:])
                if ua.chksum == ub.chksum and bytes(pb) != pa:
                    break
            else:
                raise SystemExit("internal error: could not make a QUIC pair with equal checksums")
            ha = self.hdr(family)
            for pl, h in ((pa, ha), (bytes(pb), self.other_hdr(family, ha))):
                inner = bytes(ipf.copy() / UDP(sport=sport, dport=443) / pl)
                self.add(b, Item("quic", "equal-checksum-pair", family, h, inner))
            self.bursts.append(b)

    def shape_dns(self):
        r = self.rng
        b = []
        for family in self.families:
            name = f"h{r.getrandbits(32):08x}.corpus.test"
            q = DNS(id=r.getrandbits(16), rd=1, qd=DNSQR(qname=name, qtype="A" if family == 4 else "AAAA"))
            sport = r.randint(32768, 60999)
            inner = bytes(self.ip(family, ident=0) / UDP(sport=sport, dport=53) / q)
            self.add(b, Item("dns", "query", family, self.hdr(family), inner))
            rd = "198.18.9.%d" % r.randint(1, 254) if family == 4 else "2001:2:9::%x" % r.getrandbits(16)
            ans = DNS(id=r.getrandbits(16), qr=1, aa=1, rd=1, ra=1,
                      qd=DNSQR(qname=name, qtype="A" if family == 4 else "AAAA"),
                      an=DNSRR(rrname=name, type="A" if family == 4 else "AAAA", ttl=300, rdata=rd))
            inner = bytes(self.ip(family, ident=0) / UDP(sport=53, dport=sport) / ans)
            self.add(b, Item("dns", "answer", family, self.hdr(family), inner))
        self.bursts.append(b)
        # a retransmitted query: the same datagram, the same headers, twice
        family = self.fam()
        b = []
        q = DNS(id=r.getrandbits(16), rd=1, qd=DNSQR(qname=f"r{r.getrandbits(32):08x}.corpus.test"))
        inner = bytes(self.ip(family, ident=0) / UDP(sport=r.randint(32768, 60999), dport=53) / q)
        h = self.hdr(family)
        self.add(b, Item("dns", "retransmitted-query", family, h, inner))
        self.add(b, Item("dns", "retransmitted-query", family, h, inner))
        self.bursts.append(b)

    def shape_natt(self):
        r = self.rng
        for family in self.families:
            b = []
            ipf = self.ip(family, ident=0, ttl=64, tos=0)
            for sport in r.sample(range(1024, 65535), 4):  # four flows (NAT-mapped ports)
                inner = bytes(ipf.copy() / UDP(sport=sport, dport=4500) / b"\xff")
                self.add(b, Item("natt", "keepalive", family, self.hdr(family), inner))
            self.bursts.append(b)
        family = self.fam()
        b = []
        inner = bytes(self.ip(family, ident=0, ttl=64, tos=0) / UDP(sport=4500, dport=4500) / b"\xff")
        h = self.hdr(family)
        self.add(b, Item("natt", "same-keepalive-twice", family, h, inner))
        self.add(b, Item("natt", "same-keepalive-twice", family, h, inner))
        self.bursts.append(b)

    def shape_echo(self):
        r = self.rng
        for family in self.families:
            b = []
            seq = r.getrandbits(16)
            ipf = self.ip(family, ident=0, ttl=64, tos=0)
            for ident in r.sample(range(65536), 3):
                l4 = ICMP(type=8, code=0, id=ident, seq=seq) if family == 4 else ICMPv6EchoRequest(id=ident, seq=seq)
                inner = bytes(ipf.copy() / l4)
                self.add(b, Item("echo", "no-data", family, self.hdr(family), inner))
            self.bursts.append(b)

    def shape_v6ext(self):
        if 6 not in self.families:
            return
        r = self.rng
        b = []
        sport, dport = r.randint(32768, 60999), r.choice([80, 443, 8080])
        ack, seq0 = r.getrandbits(32), r.getrandbits(32)
        hbh = IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0\0\0\0")])
        ipf = self.ip(6)
        self.open_tcp(6, sport, dport, seq0, ack, ext=hbh.copy())
        for k in range(3):  # segments of one flow behind a hop-by-hop header: only seq differs
            pl = self.tag() + r.randbytes(60)
            inner = bytes(ipf.copy() / hbh / TCP(sport=sport, dport=dport, seq=(seq0 + 64 * k) & 0xFFFFFFFF, ack=ack,
                                                  flags="PA", window=501) / pl)
            self.add(b, Item("v6ext", "tcp-behind-hop-by-hop", 6, self.hdr(6), inner))
        self.bursts.append(b)
        b = []
        chain = (IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)])
                 / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 12)])
                 / IPv6ExtHdrSegmentRouting(addresses=[RCV6, "2001:2:7::1"], segleft=0, lastentry=1)
                 / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]))
        for _ in range(2):
            inner = bytes(self.ip(6) / chain.copy() / UDP(sport=sport, dport=5300)
                          / (self.tag() + r.randbytes(r.randint(1, 40))))
            self.add(b, Item("v6ext", "udp-behind-4-ext-headers", 6, self.hdr(6), inner))
        inner = bytes(self.ip(6) / IPv6ExtHdrFragment(offset=0, m=0, id=r.getrandbits(32))
                      / TCP(sport=sport, dport=dport, seq=r.getrandbits(32), ack=ack, flags="PA")
                      / (self.tag() + r.randbytes(20)))
        self.add(b, Item("v6ext", "tcp-atomic-fragment", 6, self.hdr(6), inner))
        inner = bytes(self.ip(6) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) / UDP(sport=sport, dport=5301)
                      / (self.tag() + r.randbytes(8)))
        self.add(b, Item("v6ext", "udp-behind-dest-options", 6, self.hdr(6), inner))
        self.bursts.append(b)

    def shape_frag(self):
        r = self.rng
        for family in self.families:
            b = []
            size = r.randrange(1500, 3000, 2)
            fsize = r.choice([504, 744, 1000])  # fragmentable bytes per piece, multiples of 8
            ttl, tos = r.randint(16, 64), r.randrange(0, 64) << 2
            sport, dport = r.randint(32768, 60999), r.choice([5004, 4789, 2152])  # RTP, VXLAN, GTP-U
            payload = self.tag() + r.randbytes(size - 8)
            h = self.hdr(family)
            if family == 4:
                ident = r.getrandbits(16)
                full = bytes(IP(src=SND4, dst=RCV4, ttl=ttl, tos=tos, id=ident) / UDP(sport=sport, dport=dport)
                             / payload)
                data = full[20:]
                d = Datagram(4, SND4, RCV4, 17, ident, ttl, tos, 0, b"", data)
            else:
                ident = r.getrandbits(32)
                fl = r.getrandbits(20)
                hbh = IPv6ExtHdrHopByHop(nh=44, options=[PadN(optdata=b"\0" * 4)])
                unfrag = bytes(hbh) if r.random() < 0.4 else b""
                full = bytes(IPv6(src=SND6, dst=RCV6, hlim=ttl, tc=tos, fl=fl) / UDP(sport=sport, dport=dport)
                             / payload)
                data = full[40:]
                d = Datagram(6, SND6, RCV6, 17, ident, ttl, tos, fl, unfrag, data)
            pieces = []
            for off in range(0, len(data), fsize):
                chunk = data[off:off + fsize]
                more = off + fsize < len(data)
                if family == 4:
                    inner = bytes(IP(src=SND4, dst=RCV4, ttl=ttl, tos=tos, id=ident, flags="MF" if more else 0,
                                     frag=off // 8, proto=17) / Raw(chunk))
                else:
                    fh = IPv6ExtHdrFragment(nh=17, offset=off // 8, m=1 if more else 0, id=ident)
                    base = IPv6(src=SND6, dst=RCV6, hlim=ttl, tc=tos, fl=fl, nh=0 if unfrag else 44)
                    inner = bytes(base / Raw(unfrag) / fh / Raw(chunk)) if unfrag else bytes(base / fh / Raw(chunk))
                pieces.append(inner)
            order = r.choice(["in-order", "reversed", "shuffled"])
            if order == "reversed":
                pieces.reverse()
            elif order == "shuffled":
                r.shuffle(pieces)
            d.idx = len(self.dgrams)
            self.dgrams.append(d)
            for inner in pieces:
                it = self.add(b, Item("frag", f"{len(pieces)}-pieces-{order}", family, h, inner))
                it.dgram = d
                d.items.append(it)
            self.bursts.append(b)

    def shape_icmperr(self):
        r = self.rng
        b = []
        for family in self.families:
            for kind in ("port-unreachable", "time-exceeded"):
                # the quoted packet: one the receiver sent towards the sender earlier
                if family == 4:
                    q = bytes(IP(src=RCV4, dst=SND4, ttl=r.randint(1, 64), id=r.getrandbits(16), flags="DF")
                              / UDP(sport=r.randint(32768, 60999), dport=r.choice([53, 123, 33434]))
                              / (self.tag() + r.randbytes(r.randint(4, 64))))
                    l4 = ICMP(type=3, code=3) if kind == "port-unreachable" else ICMP(type=11, code=0)
                    inner = bytes(self.ip(4, ident=r.getrandbits(16), df=False, tos=0xC0) / l4 / q)
                else:
                    q = bytes(IPv6(src=RCV6, dst=SND6, hlim=r.randint(1, 64))
                              / UDP(sport=r.randint(32768, 60999), dport=r.choice([53, 123, 33434]))
                              / (self.tag() + r.randbytes(r.randint(4, 64))))
                    l4 = ICMPv6DestUnreach(code=4) if kind == "port-unreachable" else ICMPv6TimeExceeded(code=0)
                    inner = bytes(self.ip(6) / l4 / q)
                self.add(b, Item("icmperr", kind, family, self.hdr(family), inner))
        self.bursts.append(b)

    def shape_tcpretx(self):
        r = self.rng
        for family in self.families:
            sport, dport = r.randint(32768, 60999), r.choice([22, 443, 5201])
            seq, ack = r.getrandbits(32), r.getrandbits(32)
            ident = r.getrandbits(16)
            self.open_tcp(family, sport, dport, seq, ack)
            # the same segment twice, same headers: both arrive (a true duplicate)
            b = []
            inner = bytes(self.ip(family, ident=ident) / TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags="PA")
                          / (self.tag() + r.randbytes(r.randint(1, 200))))
            h = self.hdr(family)
            self.add(b, Item("tcpretx", "identical-same-headers", family, h, inner))
            self.add(b, Item("tcpretx", "identical-same-headers", family, h, inner))
            self.bursts.append(b)
            # same seq/ack/length, payload equal in its first 4 bytes only, other headers
            b = []
            n = r.randint(8, 300)
            head = r.randbytes(4)
            ha = self.hdr(family)
            hb = self.other_hdr(family, ha)
            ipf = self.ip(family, ident=ident + 1 & 0xFFFF)
            for h2 in (ha, hb):
                l4 = TCP(sport=sport, dport=dport, seq=seq + 4096 & 0xFFFFFFFF, ack=ack, flags="PA", window=1000)
                inner = bytes(ipf.copy() / l4 / (head + self.tag() + r.randbytes(n)))
                self.add(b, Item("tcpretx", "differs-after-byte-4", family, h2, inner))
            self.bursts.append(b)
            # the same segment twice with other headers: each its own, or the second counted
            b = []
            l4 = TCP(sport=sport, dport=dport, seq=seq + 8192 & 0xFFFFFFFF, ack=ack, flags="PA")
            ipf = self.ip(family, ident=ident + 2 & 0xFFFF)
            inner = bytes(ipf / l4 / (self.tag() + r.randbytes(r.randint(1, 200))))
            ha = self.hdr(family)
            self.add(b, Item("tcpretx", "identical-other-headers", family, ha, inner))
            second = MAYBE_CONFLICT if self.a.key_mode == "header-hash" else DELIVER
            self.add(b, Item("tcpretx", "identical-other-headers", family, self.other_hdr(family, ha), inner,
                             expect=second, counter="rx_key_conflict" if second == MAYBE_CONFLICT else None))
            self.bursts.append(b)

    def toobig_hdr(self, family):
        """Headers that push at least 4 bytes."""
        while True:
            h = self.hdr(family, min_labels=self.a.consumed + 1)
            if self.grow(h) > 0:
                return h

    def shape_toobig(self):
        if not self.a.egress_mtu:
            return
        r = self.rng
        mtu = self.a.egress_mtu
        b = []
        for family in self.families:
            protos = ["udp", "tcp"] if family == 4 else ["udp"]
            for proto in protos:
                h = self.toobig_hdr(family)
                g = self.grow(h)
                size = r.randint(mtu - g + 1, mtu)  # fits without the headers, not with them
                hl = 20 if family == 4 else 40
                if proto == "udp":
                    l4 = UDP(sport=r.randint(32768, 60999), dport=r.choice([443, 4789]))
                else:
                    l4 = TCP(sport=r.randint(32768, 60999), dport=443, seq=r.getrandbits(32), ack=r.getrandbits(32),
                             flags="A")
                l4len = 8 if proto == "udp" else 20
                pad = r.randbytes(size - hl - l4len - 8)
                inner = bytes(self.ip(family, ident=r.getrandbits(16)) / l4 / (self.tag() + pad))
                assert len(inner) == size
                it = self.add(b, Item("toobig", f"df-{proto}", family, h, inner, expect=ICMP_BACK))
                it.icmp_usable = mtu - g
        # IPv4 without DF: dropped and counted (a tc program cannot fragment)
        if 4 in self.families:
            h = self.toobig_hdr(4)
            size = r.randint(mtu - self.grow(h) + 1, mtu)
            inner = bytes(self.ip(4, ident=r.getrandbits(16), df=False) / UDP(sport=r.randint(32768, 60999), dport=443)
                          / (self.tag() + r.randbytes(size - 36)))
            self.add(b, Item("toobig", "no-df", 4, h, inner, expect=PROXY_DROP, counter="tx_too_big"))
        # an ICMP error that does not fit: no ICMP error about an ICMP error, dropped and counted
        family = self.fam()
        h = self.toobig_hdr(family)
        size = r.randint(mtu - self.grow(h) + 1, mtu)
        hl = 20 if family == 4 else 40
        qlen = size - hl - 8
        if family == 4:
            q = bytes(IP(src=RCV4, dst=SND4, ttl=1, id=r.getrandbits(16), flags="DF") / UDP(sport=33434, dport=33434)
                      / (self.tag() + r.randbytes(qlen - 36)))
            inner = bytes(self.ip(4, ident=r.getrandbits(16), tos=0xC0) / ICMP(type=11, code=0) / q)
        else:
            q = bytes(IPv6(src=RCV6, dst=SND6, hlim=1) / UDP(sport=33434, dport=33434)
                      / (self.tag() + r.randbytes(qlen - 56)))
            inner = bytes(self.ip(6) / ICMPv6TimeExceeded(code=0) / q)
        assert len(inner) == size, (len(inner), size)
        self.add(b, Item("toobig", "icmp-error", family, h, inner, expect=PROXY_DROP, counter="tx_too_big"))
        self.bursts.append(b)

    def shape_ttl(self):
        r = self.rng
        b = []
        family = self.fam()
        mpls_ok = self.a.encap in ("mpls", "mixed")
        nsh_ok = self.a.encap in ("nsh", "mixed")
        c = self.a.consumed

        def udp(fam):
            return bytes(self.ip(fam, ident=r.getrandbits(16)) / UDP(sport=r.randint(32768, 60999), dport=5555)
                         / (self.tag() + r.randbytes(r.randint(1, 100))))
        if mpls_ok:
            for ttl in (1, 0):  # last segment with TTL 1 / 0: never forwarded, not even stripped
                h = self.hdr(family, "mpls", c, c, top_ttl=ttl)
                self.add(b, Item("ttl", f"last-label-ttl{ttl}", family, h, udp(family), expect=PROXY_DROP,
                                 counter="tx_ttl_expired"))
            h = self.hdr(family, "mpls", c + 2, c + 3, top_ttl=1)
            self.add(b, Item("ttl", "top-ttl1-longer-stack", family, h, udp(family), expect=PROXY_DROP,
                             counter="tx_ttl_expired"))
            # last pop: the IP TTL (16..64 after the VNF) is capped at popped TTL - 1
            h = self.hdr(family, "mpls", c, c, top_ttl=r.randint(2, 12))
            self.add(b, Item("ttl", "last-pop-caps-ip-ttl", family, h, udp(family)))
        if nsh_ok:
            for ttl, expect in ((0, DELIVER), (1, PROXY_DROP)):
                nsh, _ = st.gen_nsh(r, self.a, family, may_expire=False)
                nb = bytearray(nsh)
                nb[0] = (nb[0] & 0xF0) | (ttl >> 2)
                nb[1] = ((ttl & 3) << 6) | (nb[1] & 0x3F)
                self.add(b, Item("ttl", f"nsh-ttl{ttl}", family, ("nsh", [], bytes(nb)), udp(family), expect=expect,
                                 counter="tx_ttl_expired" if expect == PROXY_DROP else None))
        self.bursts.append(b)

    def shape_vnfdrop(self):
        if self.a.drop_port is None:
            return
        r = self.rng
        b = []
        family = self.fam()
        l4 = UDP(sport=r.randint(32768, 60999), dport=self.a.drop_port)
        inner = bytes(self.ip(family, ident=r.getrandbits(16)) / l4 / (self.tag() + r.randbytes(20)))
        self.add(b, Item("vnfdrop", "udp-to-drop-port", family, self.hdr(family), inner, expect=VNF_DROP))
        self.bursts.append(b)

    def shape_markxor(self):
        if not self.a.mark_xor_port:
            return
        r = self.rng
        # Two packets whose marks the VNF changes (key bit 0 flipped), then two ordinary ones, in
        # one burst: consecutive packets take consecutive slots of one ring, so whichever parity
        # the first key has, one of the two changed keys names the slot of a later packet of the
        # burst, still inside the VNF: that lookup must see another packet's entry and count it
        # foreign_entry (and the neighbour must still get its own headers). Both must miss.
        b = []
        for k in range(4):
            family = self.fam()
            xor = k < 2
            port = self.a.mark_xor_port if xor else r.randint(6000, 6999)
            inner = bytes(self.ip(family, ident=r.getrandbits(16)) / UDP(sport=r.randint(32768, 60999), dport=port)
                          / (self.tag() + r.randbytes(r.randint(8, 80))))
            self.add(b, Item("markxor", "changed-mark" if xor else "neighbour", family, self.hdr(family), inner,
                             expect=PROXY_DROP if xor else DELIVER, counter="tx_miss_drop" if xor else None))
        self.bursts.append(b)
        self.markxor_bursts += 1

    def build(self):
        shapes = [s for s in (self.a.shapes.split(",") if self.a.shapes else SHAPES)]
        for s in shapes:
            if s not in SHAPES:
                raise SystemExit(f"unknown shape {s!r} (known: {', '.join(SHAPES)})")
        rounds = 0
        while len(self.items) < self.a.count or rounds == 0:
            start = len(self.bursts)
            self.openers = []
            for s in shapes:
                getattr(self, "shape_" + s)()
            # interleave the round's bursts, after the flows they need are open
            mine = self.bursts[start:]
            self.rng.shuffle(mine)
            self.bursts[start:] = ([self.openers] if self.openers else []) + mine
            rounds += 1
        # items stay in generation order (idx = the tag they carry); bursts are the sending order
        for bi, bu in enumerate(self.bursts):
            for it in bu:
                it.burst = bi
        self.check()
        return self

    def check(self):
        """Self-checks: ordinary packets fit the egress with their headers; sizes are sane."""
        mtu = self.a.egress_mtu or 1500
        for it in self.items:
            g = self.grow((it.encap, it.labels, it.nsh))
            if it.expect in (DELIVER, MAYBE_CONFLICT, VNF_DROP) and len(it.inner) + g > mtu:
                raise SystemExit(f"internal error: {it.desc()} does not fit the egress MTU {mtu} with its headers")


def generate(a):
    return Gen(a).build()


# --------------------------------------------------------------------------------------------
# send
# --------------------------------------------------------------------------------------------
def cmd_send(a):
    g = generate(a)
    dst = st.mac_bytes(a.dst_mac)
    inner_dst = st.mac_bytes(a.inner_dst_mac) if a.inner_dst_mac else dst
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(st.ETH_P_ALL))
    sock.bind((a.iface, 0))
    src = sock.getsockname()[4][:6]
    bursts = [[st.frame_of(it, dst, src, inner_dst) for it in bu] for bu in g.bursts]
    if a.burst_cpu is not None:
        # Each burst enters the ingress' NAPI ring whole before the (threaded) NAPI on this CPU
        # runs: the packets of a burst are popped together and are inside the VNF together.
        os.sched_setaffinity(0, {a.burst_cpu})
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    print("SENDING", flush=True)
    t0 = time.time()
    sent = 0
    for bu in bursts:
        for fr in bu:
            while True:
                try:
                    sock.send(fr)
                    break
                except OSError as e:
                    if e.errno != 105:  # ENOBUFS: back off
                        raise
                    time.sleep(0.001)
            sent += 1
        time.sleep(a.gap_ms / 1000.0)
    print(json.dumps({"sent": sent, "bursts": len(bursts), "elapsed_s": round(time.time() - t0, 3),
                      **composition(g)}), flush=True)
    return 0


def composition(g):
    shapes = {}
    for it in g.items:
        shapes.setdefault(it.shape, 0)
        shapes[it.shape] += 1
    return {"items": len(g.items), "datagrams": len(g.dgrams), "shapes": shapes,
            "mpls": sum(1 for it in g.items if it.encap == "mpls"),
            "nsh": sum(1 for it in g.items if it.encap == "nsh"),
            "v4": sum(1 for it in g.items if it.family == 4), "v6": sum(1 for it in g.items if it.family == 6)}


# --------------------------------------------------------------------------------------------
# recv
# --------------------------------------------------------------------------------------------
def ip_ttl_cap(it, a):
    """Last pop (RFC 3032 2.4.3): the IP TTL leaves no higher than the popped TTL - 1."""
    if it.encap == "mpls" and it.labels and len(it.labels) <= a.consumed:
        return max(0, it.labels[0][2] - 1)
    return 255


def vnf_rewrite(it, a):
    """What the VNF itself makes of the packet, apart from the TTL. A stateful kernel VNF
    (conntrack) hands an IPv6 atomic fragment (fragment header, offset 0, M 0) to its reassembly,
    which strips the fragment header: the packet leaves 8 bytes shorter (Linux
    nf_ct_frag6_gather; RFC 6946 would have it processed in isolation)."""
    b = it.inner
    if a.vnf != "stateful" or it.family != 6:
        return b
    nh, prev, off = b[6], 6, 40
    while nh in (0, 43, 60, 51, 44) and off + 8 <= len(b):
        if nh == 44:
            fo = struct.unpack("!H", b[off + 2:off + 4])[0]
            if fo & 0xFFF9:
                return b  # a real fragment: judged per datagram
            out = bytearray(b[:off] + b[off + 8:])
            out[prev] = b[off]
            out[4:6] = struct.pack("!H", len(out) - 40)
            return bytes(out)
        ln = (b[off + 1] + 2) * 4 if nh == 51 else (b[off + 1] + 1) * 8
        nh, prev, off = b[off], off, off + ln
    return b


def after_vnf(it, a):
    """The inner packet as it must leave the proxy: as the VNF emits it (vnf_rewrite), TTL / hop
    limit down by the VNF's hops, and on a last pop no higher than the popped TTL - 1 (RFC 3032
    2.4.3)."""
    b = bytearray(vnf_rewrite(it, a))
    cap = ip_ttl_cap(it, a)
    if it.family == 4:
        b[8] = min(b[8] - a.ip_hops, cap)
        ihl = (b[0] & 0x0F) * 4
        b[10:12] = b"\0\0"
        b[10:12] = struct.pack("!H", st.ip_csum(bytes(b[:ihl])))
    else:
        b[7] = min(b[7] - a.ip_hops, cap)
    return bytes(b)


def icmp_back(it, a):
    """The ICMP error tc_tx must send along the chain for a too-big packet (bpf/tc_tx/tx_icmp.h):
    IPv4 type 3 code 4 quoting up to 576 bytes in all, IPv6 type 2 up to 1280, never longer than
    the usable size; from the egress address to the packet's source, TTL 64."""
    pkt = after_vnf(it, a)
    usable = it.icmp_usable
    if it.family == 4:
        total = min(usable, 576)
        q = pkt[:min(len(pkt), total - 28)]
        icmp = bytearray(struct.pack("!BBHHH", 3, 4, 0, 0, usable) + q)
        icmp[2:4] = struct.pack("!H", csum(bytes(icmp)))
        hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0xC0, 20 + len(icmp), 0, 0x4000, 64, 1, 0,
                                    addr_bytes(a.egress_ip4), pkt[12:16]))
        hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
        return bytes(hdr) + bytes(icmp)
    total = min(usable, 1280)
    q = pkt[:min(len(pkt), total - 48)]
    icmp = bytearray(struct.pack("!BBHI", 2, 0, 0, usable) + q)
    src, dst = addr_bytes(a.egress_ip6), pkt[8:24]
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), 58)
    icmp[2:4] = struct.pack("!H", csum(pseudo + bytes(icmp)))
    hdr = struct.pack("!IHBB16s16s", 0x60000000, len(icmp), 58, 64, src, dst)
    return hdr + bytes(icmp)


def header_problems(it, pr, a, own_mac, egress_mac, nsh_outer_dst):
    """Whether the frame carries item it's own headers, restored: [] or the problems."""
    probs = []
    dec = 1 if a.consumed > 0 else 0
    if it.encap == "nsh":
        if pr["etype"] != st.ETH_P_NSH or pr["nsh"] is None:
            return [f"expected NSH, got ethertype 0x{pr['etype'] or 0:04x} labels {pr['labels']}"]
        want = st.nsh_forwarded(it.nsh, 1)
        if pr["nsh"] != want:
            probs.append(f"NSH {st.fmt_nsh(pr['nsh'])} {pr['nsh'][:16].hex()}, "
                         f"want {st.fmt_nsh(want)} {want[:16].hex()}")
        np = it.nsh_np
        exp_dst = own_mac if np != st.NSH_NP_ETHERNET else nsh_outer_dst
        if exp_dst is not None and pr["dst"] != exp_dst:
            probs.append(f"outer dst {st.mac_str(pr['dst'])} != {st.mac_str(exp_dst)}")
        if egress_mac is not None and pr["src"] != egress_mac:
            probs.append(f"outer src {st.mac_str(pr['src'])} != egress {st.mac_str(egress_mac)}")
        if np == st.NSH_NP_ETHERNET:
            ie = pr["inner_eth"]
            et = st.ETH_P_IP if it.family == 4 else st.ETH_P_IPV6
            if ie is None or ie[0:6] != own_mac or (egress_mac and ie[6:12] != egress_mac) \
                    or struct.unpack("!H", ie[12:14])[0] != et:
                probs.append(f"inner Ethernet {ie.hex() if ie else None}")
        return probs
    if pr["dst"] != own_mac:
        probs.append(f"dst {st.mac_str(pr['dst'])} != receiver")
    if egress_mac is not None and pr["src"] != egress_mac:
        probs.append(f"src {st.mac_str(pr['src'])} != egress")
    want = it.labels[a.consumed:]
    if not want:
        if pr["etype"] not in (st.ETH_P_IP, st.ETH_P_IPV6) or pr["labels"]:
            probs.append(f"expected plain IP (last segment), got ethertype 0x{pr['etype'] or 0:04x} "
                         f"labels {st.fmt_got(pr['labels'])}")
        return probs
    got = pr["labels"]
    if pr["etype"] != st.ETH_P_MPLS_UC:
        nsh = st.fmt_nsh(pr["nsh"]) if pr["nsh"] else None
        return probs + [f"expected {len(want)} labels, got ethertype 0x{pr['etype'] or 0:04x} NSH {nsh}"]
    exp = [(l, tc, 1 if j == len(want) - 1 else 0, it.labels[0][2] - dec if j == 0 else ttl)
           for j, (l, tc, ttl) in enumerate(want)]
    if got != exp:
        probs.append(f"stack {st.fmt_got(got)}, want {st.fmt_got(exp)}")
    return probs


def same_headers_as(pr, items, a, own_mac, egress_mac, nsh_outer_dst, but):
    """Items (other than but) whose restored headers are exactly what the frame carries."""
    return [it for it in items if it is not but and it.dgram is None
            and not header_problems(it, pr, a, own_mac, egress_mac, nsh_outer_dst)]


def ipv6_frag(ip):
    """IPv6: (unfragmentable ext bytes, fragment header offset/M/id/nh, data) if a fragment header
    with offset or M is present; None otherwise."""
    nh, off = ip[6], 40
    while nh in (0, 43, 60, 51, 44) and off + 8 <= len(ip):
        if nh == 44:
            fo = struct.unpack("!H", ip[off + 2:off + 4])[0]
            if fo & 0xFFF9 == 0:
                return None  # atomic fragment
            return ip[40:off], (fo & 0xFFF8), fo & 1, struct.unpack("!I", ip[off + 4:off + 8])[0], ip[off], ip[off + 8:]
        ln = (ip[off + 1] + 2) * 4 if nh == 51 else (ip[off + 1] + 1) * 8
        nh, off = ip[off], off + ln
    return None


def fragment_of(ip):
    """-> dict(family, src, dst, proto, ident, offset, more, data, ...) for a fragment, else None."""
    if ip[0] >> 4 == 4:
        fo = struct.unpack("!H", ip[6:8])[0]
        if fo & 0x3FFF == 0:
            return None
        ihl = (ip[0] & 0x0F) * 4
        return {"family": 4, "src": socket.inet_ntop(socket.AF_INET, ip[12:16]),
                "dst": socket.inet_ntop(socket.AF_INET, ip[16:20]), "proto": ip[9],
                "ident": struct.unpack("!H", ip[4:6])[0], "offset": (fo & 0x1FFF) * 8, "more": (fo >> 13) & 1,
                "df": (fo >> 14) & 1, "ttl": ip[8], "tos": ip[1], "data": ip[ihl:],
                "csum_ok": st.ip_csum(ip[:ihl]) == 0, "unfrag": b"", "fl": 0}
    f = ipv6_frag(ip)
    if f is None:
        return None
    unfrag, off, more, ident, nh, data = f
    vtf = struct.unpack("!I", ip[0:4])[0]
    return {"family": 6, "src": socket.inet_ntop(socket.AF_INET6, ip[8:24]),
            "dst": socket.inet_ntop(socket.AF_INET6, ip[24:40]),
            "proto": nh, "ident": ident, "offset": off, "more": more, "df": 0, "ttl": ip[7], "tos": (vtf >> 20) & 0xFF,
            "fl": vtf & 0xFFFFF, "data": data, "csum_ok": True, "unfrag": unfrag}


def ignorable(pr):
    """Frames that are none of the corpus' business: IPv6 link-local / multicast (ND, MLD)."""
    ip = pr["inner"]
    if pr["etype"] == st.ETH_P_IPV6 and len(ip) >= 40:
        return ip[8] == 0xFE and ip[9] & 0xC0 == 0x80 or ip[24] == 0xFF
    if pr["etype"] == st.ETH_P_IP and len(ip) >= 20:
        return ip[16] >= 224
    return pr["etype"] not in (st.ETH_P_IP, st.ETH_P_IPV6, st.ETH_P_MPLS_UC, st.ETH_P_NSH)


def closest(inner, items, a):
    """Diagnostics for a frame that matches nothing: the item whose tag it carries, else the item
    with the fewest differing bytes among those of the same length."""
    pos = inner.find(TAG)
    if pos >= 0 and pos + 8 <= len(inner):
        i = struct.unpack("!I", inner[pos + 4:pos + 8])[0]
        if 0 <= i < len(items):
            it = items[i]
            exp = after_vnf(it, a)
            diff = [j for j in range(max(len(exp), len(inner)))
                    if j >= len(exp) or j >= len(inner) or exp[j] != inner[j]]
            return f"tag of {it.desc()}; differs at bytes {diff[:10]}"
    best = None
    for it in items:
        exp = after_vnf(it, a)
        if len(exp) != len(inner):
            continue
        d = sum(1 for x, y in zip(exp, inner) if x != y)
        if best is None or d < best[0]:
            best = (d, it)
    return f"closest {best[1].desc()} ({best[0]} bytes differ)" if best else "no item of that length"


def cmd_recv(a):
    g = generate(a)
    items, dgrams = g.items, g.dgrams
    egress_mac = st.mac_bytes(a.egress_mac) if a.egress_mac else None
    nsh_outer_dst = st.mac_bytes(a.nsh_outer_dst) if a.nsh_outer_dst else None
    by_bytes = {}
    for it in items:
        if it.dgram is not None:
            continue
        key = icmp_back(it, a) if it.expect == ICMP_BACK else after_vnf(it, a)
        by_bytes.setdefault(key, []).append(it)
    must_arrive = [it for it in items if it.dgram is None and it.expect in (DELIVER, ICMP_BACK)]

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(st.ETH_P_ALL))
    for opt in (33, socket.SO_RCVBUF):  # SO_RCVBUFFORCE, else SO_RCVBUF
        try:
            sock.setsockopt(socket.SOL_SOCKET, opt, 64 * 1024 * 1024)
            break
        except OSError:
            continue
    sock.bind((a.iface, st.ETH_P_ALL))
    own_mac = sock.getsockname()[4][:6]
    sock.setblocking(False)
    print("READY", flush=True)

    frames = []
    arrived = [0] * len(items)
    covered = [0] * len(dgrams)  # bytes of each datagram seen (a cheap completeness estimate)
    t0 = time.time()
    deadline, linger_until = t0 + a.timeout, None
    while True:
        now = time.time()
        end = deadline if linger_until is None else min(deadline, linger_until)
        if now >= end:
            break
        r, _, _ = select.select([sock], [], [], min(0.2, end - now))
        if r:
            while True:
                try:
                    fr, addr = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == st.PACKET_OUTGOING:
                    continue
                frames.append(fr)
                pr = st.parse_frame(fr)
                if pr["inner"]:
                    f = fragment_of(pr["inner"])
                    if f is not None:
                        for d in dgrams:
                            at = d.data[f["offset"]:f["offset"] + len(f["data"])]
                            if d.family == f["family"] and at == f["data"]:
                                covered[d.idx] += len(f["data"])
                                break
                    else:
                        for it in by_bytes.get(pr["inner"], []):
                            arrived[it.idx] += 1
        if linger_until is None and all(arrived[it.idx] for it in must_arrive) and \
                all(covered[d.idx] >= len(d.data) for d in dgrams):
            linger_until = time.time() + a.linger
    capture_s = time.time() - t0

    # ---- judge every frame
    errors = []

    def err(msg):
        if len(errors) < a.max_errors:
            errors.append(msg)

    got = [0] * len(items)       # arrivals with the item's own headers
    bad = [[] for _ in items]    # problems of arrivals attributed to the item
    unexpected = leaked = wrong_headers = duplicates = swapped = 0
    for fr in frames:
        pr = st.parse_frame(fr)
        if not pr["inner"]:
            unexpected += 1
            err(f"unparsable frame ({pr['err']}): {fr[:48].hex()}")
            continue
        if ignorable(pr):
            continue
        f = fragment_of(pr["inner"])
        if f is not None:
            judge_piece(f, pr, fr, dgrams, items, a, own_mac, egress_mac, nsh_outer_dst, err)
            continue
        cands = by_bytes.get(pr["inner"])
        if not cands:
            unexpected += 1
            err(f"unexpected frame: {len(pr['inner'])}B {pr['inner'][:40].hex()} ({closest(pr['inner'], items, a)})")
            continue
        own = [c for c in cands if not header_problems(c, pr, a, own_mac, egress_mac, nsh_outer_dst)]
        if own:
            free = [c for c in own if got[c.idx] == 0]
            c = free[0] if free else own[0]
            got[c.idx] += 1
            if c.expect in (VNF_DROP, PROXY_DROP):
                leaked += 1
                err(f"{c.desc()}: arrived, but must not ({c.expect}{', ' + c.counter if c.counter else ''})")
            elif got[c.idx] > 1:
                duplicates += 1
                err(f"{c.desc()}: arrived {got[c.idx]} times")
            continue
        # the packet (as far as its bytes tell) arrived with headers that are not its own
        wrong_headers += 1
        c = min(cands, key=lambda x: got[x.idx])
        probs = header_problems(c, pr, a, own_mac, egress_mac, nsh_outer_dst)
        others = same_headers_as(pr, items, a, own_mac, egress_mac, nsh_outer_dst, c)
        if others:
            swapped += 1
        bad[c.idx].append(probs)
        err(f"{c.desc()}: WRONG HEADERS: {'; '.join(probs)}"
            + (f" -- those are the headers of {others[0].desc()}" if others else ""))

    missing = counted_missing = 0
    counted = {}
    for it in items:
        if it.dgram is not None or got[it.idx] or bad[it.idx]:
            continue
        if it.expect in (DELIVER, ICMP_BACK):
            missing += 1
            err(f"{it.desc()}: missing{' (an ICMP error was expected)' if it.expect == ICMP_BACK else ''}")
        elif it.expect == MAYBE_CONFLICT:
            counted_missing += 1
            counted[it.counter] = counted.get(it.counter, 0) + 1

    dgram_bad = 0
    for d in dgrams:
        probs = list(d.problems)
        span = sorted(d.pieces)
        pos, ids = 0, set()
        for off, ln, more, ident in span:
            ids.add(ident)
            if off != pos:
                probs.append(f"pieces {'overlap' if off < pos else 'leave a gap'} at {min(off, pos)}")
                break
            pos = off + ln
        if not probs:
            if pos != len(d.data):
                probs.append(f"pieces cover {pos} of {len(d.data)} bytes ({len(span)} pieces arrived)")
            elif not span or span[-1][2] or any(p[2] == 0 for p in span[:-1]):
                probs.append("more-fragments flags wrong")
            elif len(ids) != 1:
                probs.append(f"pieces carry different identifications {sorted(ids)}")
        if probs:
            dgram_bad += 1
            err(f"datagram {d.idx} ({d.items[0].desc()}, {len(d.data)}B, {len(d.items)} pieces sent): "
                f"{'; '.join(probs[:3])}")

    # ---- summary
    must_count = {}
    for it in items:
        if it.expect == PROXY_DROP and it.counter:
            must_count[it.counter] = must_count.get(it.counter, 0) + 1
        if it.expect == ICMP_BACK:
            must_count["icmp_too_big_sent"] = must_count.get("icmp_too_big_sent", 0) + 1
            must_count["tx_too_big"] = must_count.get("tx_too_big", 0) + 1
    if g.markxor_bursts:
        must_count["foreign_entry"] = g.markxor_bursts
    shapes = {}
    for it in items:
        s = shapes.setdefault(it.shape, {"sent": 0, "ok": 0, "bad": 0})
        s["sent"] += 1
    for it in items:
        s = shapes[it.shape]
        if it.dgram is not None:
            continue
        fine = (it.expect in (DELIVER, ICMP_BACK) and got[it.idx] == 1 and not bad[it.idx]) or \
               (it.expect in (VNF_DROP, PROXY_DROP) and got[it.idx] == 0 and not bad[it.idx]) or \
               (it.expect == MAYBE_CONFLICT and got[it.idx] <= 1 and not bad[it.idx])
        s["ok" if fine else "bad"] += 1
    for d in dgrams:
        s = shapes["frag"]
        fine = not d.problems and d.pieces and not any(e.startswith(f"datagram {d.idx} ") for e in errors)
        s["ok" if fine else "bad"] += len(d.items)
    # what the VNF's own counters must at least show (EndToEnd AssertVnfSawTraffic)
    certain = [it for it in items if it.expect in (DELIVER, ICMP_BACK, PROXY_DROP) and it.shape != "markxor"]
    if a.vnf == "tun":
        vnf_min = len(certain)
    elif a.vnf == "stateful":  # SFCVNF counts what conntrack calls NEW/ESTABLISHED: UDP datagrams surely
        vnf_min = sum(1 for it in certain if it.dgram is None and upper(it) == 17) + len(dgrams)
    else:  # SFCVNF counts UDP and TCP packets
        vnf_min = sum(1 for it in certain if upper(it) in (6, 17))
    all_ok = not errors and missing == 0 and unexpected == 0 and leaked == 0 and wrong_headers == 0 and \
        duplicates == 0 and dgram_bad == 0
    summary = {
        "all_ok": all_ok,
        "expected": len(certain),
        "expected_dropped": sum(1 for it in items if it.expect == VNF_DROP),
        "vnf_min": vnf_min,
        "received": len(frames),
        "ok": sum(v["ok"] for v in shapes.values()),
        "missing": missing,
        "wrong_headers": wrong_headers,
        "swapped": swapped,
        "duplicates": duplicates,
        "unexpected": unexpected,
        "leaked": leaked,
        "datagrams": len(dgrams),
        "datagrams_bad": dgram_bad,
        "fragments_sent": sum(len(d.items) for d in dgrams),
        "fragment_pieces_received": sum(len(d.pieces) for d in dgrams),
        "counted_missing": counted,
        "must_count": must_count,
        "shapes": shapes,
        "capture_s": round(capture_s, 3),
        "params": {"count": a.count, "seed": a.seed, "encap": a.encap, "vnf": a.vnf, "key_mode": a.key_mode,
                   "egress_mtu": a.egress_mtu, "ip_hops": a.ip_hops, "consumed": a.consumed,
                   "mark_xor_port": a.mark_xor_port},
        "sent": composition(g),
        "first_errors": errors,
    }
    text = json.dumps(summary, indent=1)
    if a.out:
        with open(a.out + ".tmp", "w") as fh:
            fh.write(text)
        os.replace(a.out + ".tmp", a.out)
    print(text, flush=True)
    return 0 if all_ok else 1


def upper(it):
    """The packet's upper-layer protocol (IPv6: after the extension headers)."""
    return it.inner[9] if it.family == 4 else ipv6_upper(it.inner)


def ipv6_upper(ip):
    nh, off = ip[6], 40
    while nh in (0, 43, 60, 51, 44) and off + 8 <= len(ip):
        ln = 8 if nh == 44 else (ip[off + 1] + 2) * 4 if nh == 51 else (ip[off + 1] + 1) * 8
        nh, off = ip[off], off + ln
    return nh


def judge_piece(f, pr, fr, dgrams, items, a, own_mac, egress_mac, nsh_outer_dst, err):
    """One arrived fragment: which datagram's bytes it carries, and whether it carries that
    datagram's headers and IP fields (the datagram's verdict adds the pieces up)."""
    cands = [d for d in dgrams
             if (d.family, d.src, d.dst, d.proto) == (f["family"], f["src"], f["dst"], f["proto"])
             and d.data[f["offset"]:f["offset"] + len(f["data"])] == f["data"] and len(f["data"]) > 0
             and (f["family"] == 6 or d.ident == f["ident"])]
    if not cands:
        err(f"unexpected fragment v{f['family']} id {f['ident']:#x} offset {f['offset']} {len(f['data'])}B "
            f"(no datagram has these bytes there): {fr[:48].hex()}")
        if dgrams:
            dgrams[0].problems.append("an unidentifiable fragment arrived")  # make the run fail
        return
    d = cands[0]
    probs = header_problems(d.items[0], pr, a, own_mac, egress_mac, nsh_outer_dst)
    if probs:
        others = same_headers_as(pr, items, a, own_mac, egress_mac, nsh_outer_dst, d.items[0])
        whose = f" -- those are the headers of {others[0].desc()}" if others else ""
        probs = ["WRONG HEADERS: " + "; ".join(probs) + whose]
    cap = ip_ttl_cap(d.items[0], a)
    if f["ttl"] != min(d.ttl - a.ip_hops, cap):
        probs.append(f"TTL {f['ttl']} != {min(d.ttl - a.ip_hops, cap)}")
    if f["tos"] != d.tos or f["fl"] != d.fl:
        probs.append(f"tos/flow label {f['tos']:#x}/{f['fl']:#x} != {d.tos:#x}/{d.fl:#x}")
    if not f["csum_ok"]:
        probs.append("IPv4 header checksum invalid")
    if f["df"]:
        probs.append("DF set on a fragment")
    if f["unfrag"] != d.unfrag:
        probs.append(f"unfragmentable part {f['unfrag'].hex()} != {d.unfrag.hex()}")
    d.pieces.append((f["offset"], len(f["data"]), f["more"], f["ident"]))
    if probs:
        d.problems.append(f"piece at {f['offset']}: " + "; ".join(probs))
        err(f"datagram {d.idx} piece at {f['offset']} ({len(f['data'])}B): {'; '.join(probs)}")


def cmd_show(a):
    g = generate(a)
    for bi, bu in enumerate(g.bursts):
        for it in bu:
            extra = f" dgram {it.dgram.idx}" if it.dgram else ""
            print(f"burst {bi:3d} {it.desc()} expect={it.expect}{'/' + it.counter if it.counter else ''}{extra} "
                  f"{it.inner[:24].hex()}")
    print(json.dumps(composition(g)))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def gen_opts(p):
        p.add_argument("--count", type=int, required=True, help="about this many packets (whole rounds of shapes)")
        p.add_argument("--seed", type=int, required=True)
        p.add_argument("--flows", type=int, default=8, help="(sfc_traffic.py's; unused)")
        p.add_argument("--family", choices=["4", "6", "both"], default="both")
        p.add_argument("--labels-min", type=int, default=1)
        p.add_argument("--labels-max", type=int, default=5)
        p.add_argument("--drop-port", type=int, default=None)
        p.add_argument("--encap", choices=["mpls", "nsh", "mixed"], default="mixed")
        p.add_argument("--nsh-no-ethernet", action="store_true")
        p.add_argument("--nsh-expired", type=float, default=0.0, help="(sfc_traffic.py's; unused)")
        p.add_argument("--nsh-u-bits", action="store_true")
        p.add_argument("--consumed", type=int, default=1)
        p.add_argument("--vnf", choices=["kernel", "stateful", "tun"], default="kernel")
        p.add_argument("--key-mode", choices=["metadata", "header-hash"], default="header-hash")
        p.add_argument("--egress-mtu", type=int, default=None)
        p.add_argument("--mark-xor-port", type=int, default=None)
        p.add_argument("--shapes", default=None)

    s = sub.add_parser("send")
    gen_opts(s)
    s.add_argument("--iface", required=True)
    s.add_argument("--dst-mac", required=True)
    s.add_argument("--inner-dst-mac", default=None)
    s.add_argument("--gap-ms", type=float, default=1.0, help="pause after each burst")
    s.add_argument("--burst-cpu", type=int, default=None,
                   help="send from this CPU as SCHED_FIFO, so a burst is in the ingress ring whole before NAPI runs")
    s.add_argument("--batch", type=int, default=None, help="(sfc_traffic.py's; unused)")
    s.set_defaults(func=cmd_send)

    r = sub.add_parser("recv")
    gen_opts(r)
    r.add_argument("--iface", required=True)
    r.add_argument("--ip-hops", type=int, default=1)
    r.add_argument("--egress-mac", default=None)
    r.add_argument("--nsh-outer-dst", default=None)
    r.add_argument("--egress-ip4", default="198.18.2.2")
    r.add_argument("--egress-ip6", default="2001:2:2::2")
    r.add_argument("--timeout", type=float, default=20.0)
    r.add_argument("--linger", type=float, default=1.0)
    r.add_argument("--max-errors", type=int, default=30)
    r.add_argument("--out", default=None)
    r.set_defaults(func=cmd_recv)

    sh = sub.add_parser("show")
    gen_opts(sh)
    sh.set_defaults(func=cmd_show)

    a = ap.parse_args()
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
