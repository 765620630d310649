"""SRv6 headers for the end-to-end lab (imported by sfc_traffic.py): per packet a different outer
IPv6 header + Segment Routing Header (RFC 8754) to the proxy SID, and what End.AD must make of it.

Every packet draws its own: segments already visited (0..3) and still to visit after the SID
(1..8), sometimes a reduced SRH (the first segment only in the destination, RFC 8754 4.1.1), tag,
flags, TLVs (none, Pad1, PadN, HMAC, an opaque type, combinations), a hop-by-hop header before the
SRH and destination options before or after it, outer source, traffic class, flow label, hop limit.
A proxy that keeps one SRH per SID or per flow hands the wrong one to most packets.

Restored (what the receiver must see): the same bytes except Segments Left - 1, destination =
Segment List[Segments Left - 1], hop limit - 1 (payload length: the VNF does not change the inner
packet's size here). Hop limit 1 on arrival cannot be forwarded: the proxy drops it (expired).
"""
import ipaddress
import struct

NH_HOPOPT, NH_IPV4, NH_ROUTING, NH_IPV6, NH_DSTOPTS = 0, 4, 43, 41, 60
EXT_HEADERS = (NH_HOPOPT, NH_ROUTING, NH_DSTOPTS)
SRH_TYPE = 4
TLV_PAD1, TLV_PADN, TLV_HMAC = 0, 4, 5
# Segments other than the proxy SID: 2001:2:0:e000::/52 (inside the lab's 2001:2::/48).
SEGMENT_PREFIX = int(ipaddress.IPv6Address("2001:2:0:e000::"))
SOURCE_PREFIX = int(ipaddress.IPv6Address("2001:2:0:5::"))


class Srv6Hdr:
    """One packet's outer IPv6 header and extension headers (the inner packet is not part of it)."""
    __slots__ = ("src", "dst", "tc", "fl", "hlim", "chain", "srh_at", "segments", "sl", "reduced", "tlvs")

    def block(self, inner_len, forwarded=False):
        """Outer IPv6 header + extension headers as sent, or (forwarded) as End.AD restores them."""
        ext = bytearray(b"".join(h for _, h in self.chain))
        dst, hlim = self.dst, self.hlim
        if forwarded:
            ext[self.srh_at + 3] = self.sl - 1
            dst, hlim = self.segments[self.sl - 1], self.hlim - 1
        first_nh = self.chain[0][0]
        ver_tc_fl = (6 << 28) | (self.tc << 20) | self.fl
        return (struct.pack("!IHBB", ver_tc_fl, len(ext) + inner_len, first_nh, hlim)
                + ipaddress.IPv6Address(self.src).packed + ipaddress.IPv6Address(dst).packed + bytes(ext))

    @property
    def expired(self):
        return self.hlim <= 1

    def describe(self):
        kinds = {NH_HOPOPT: "hbh", NH_ROUTING: "srh", NH_DSTOPTS: "dopt"}
        return (f"SRv6(sl={self.sl} segs={len(self.segments)}{' reduced' if self.reduced else ''} "
                f"tlvs={','.join(self.tlvs) or '-'} ext={'/'.join(kinds[t] for t, _ in self.chain)} hlim={self.hlim})")


def _addr(prefix, rng):
    return str(ipaddress.IPv6Address(prefix | rng.getrandbits(64)))


def _options_header(rng, nh):
    """Hop-by-hop or destination options header of 8 bytes: one option of a type a node skips when
    it does not know it (RFC 8200 4.2: top bits 00; 0x1e is the RFC 3692 experiment) or PadN."""
    opt = 0x1E if rng.random() < 0.5 else 1
    data = rng.randbytes(4) if opt == 0x1E else b"\0" * 4
    return bytes([nh, 0, opt, 4]) + data


def _tlvs(rng):
    """-> (TLV bytes, names). Pad1 / PadN only as padding are added by the caller."""
    shape = rng.choice(["none", "none", "padn", "hmac", "opaque", "hmac+opaque", "pad1"])
    out, names = b"", []
    if "hmac" in shape:
        # D bit clear, reserved, key id, 32 bytes of HMAC: the proxy keeps it, it does not check it.
        out += bytes([TLV_HMAC, 38]) + struct.pack("!HI", 0, rng.getrandbits(32) | 1) + rng.randbytes(32)
        names.append("hmac")
    if "opaque" in shape:
        vlen = rng.randint(0, 20)
        out += bytes([rng.choice([6, 7, 0x7E, 0x81, 0xC3]), vlen]) + rng.randbytes(vlen)
        names.append("opaque")
    if shape == "padn":
        n = rng.randint(0, 5)
        out += bytes([TLV_PADN, n]) + b"\0" * n
        names.append("padn")
    if shape == "pad1":
        out += bytes([TLV_PAD1])
        names.append("pad1")
    return out, names


def _pad(tlvs, names):
    """Pads the TLVs so that the SRH is a multiple of 8 bytes (RFC 8754 2.1.1: Pad1 for one byte,
    PadN for more)."""
    need = (-len(tlvs)) % 8
    if need == 1:
        return tlvs + bytes([TLV_PAD1]), names + ["pad1"]
    if need >= 2:
        return tlvs + bytes([TLV_PADN, need - 2]) + b"\0" * (need - 2), names + ["padn"]
    return tlvs, names


def generate(rng, sid, family, expired_share):
    """A fresh SRv6 header for one packet carrying IPv4 (family 4) or IPv6. Draws only from rng."""
    h = Srv6Hdr()
    before = [_addr(SEGMENT_PREFIX, rng) for _ in range(rng.choice([0, 0, 1, 2, 3]))]
    after = [_addr(SEGMENT_PREFIX, rng) for _ in range(rng.randint(1, 8))]
    path = before + [sid] + after  # in the order they are visited
    h.reduced = not before and rng.random() < 0.2
    listed = path[1:] if h.reduced else path
    h.segments = list(reversed(listed))  # Segment List[0] is the last segment
    h.sl = len(after)  # Segment List[sl] == sid (== Last Entry + 1 for a reduced SRH visiting the SID first)
    tlvs, h.tlvs = _pad(*_tlvs(rng))
    inner_nh = NH_IPV4 if family == 4 else NH_IPV6
    dopt_after = rng.random() < 0.15
    srh_nh = NH_DSTOPTS if dopt_after else inner_nh
    flags = rng.getrandbits(8)  # unassigned on the wire today; must survive byte for byte
    seg_bytes = b"".join(ipaddress.IPv6Address(s).packed for s in h.segments)
    srh = (bytes([srh_nh, (len(seg_bytes) + len(tlvs)) // 8, SRH_TYPE, h.sl, len(h.segments) - 1, flags])
           + struct.pack("!H", rng.getrandbits(16)) + seg_bytes + tlvs)
    # The chain front to back; each header's next-header byte names the one after it.
    chain = []
    if rng.random() < 0.15:
        chain.append((NH_HOPOPT, None))
    if rng.random() < 0.15:
        chain.append((NH_DSTOPTS, None))
    chain.append((NH_ROUTING, srh))
    if dopt_after:
        chain.append((NH_DSTOPTS, _options_header(rng, inner_nh)))
    for i, (t, hdr) in enumerate(chain):
        if hdr is None:
            chain[i] = (t, _options_header(rng, chain[i + 1][0]))
    h.chain = chain
    h.srh_at = sum(len(b) for _, b in chain[:[t for t, _ in chain].index(NH_ROUTING)])
    h.src = _addr(SOURCE_PREFIX, rng)
    h.dst = sid
    h.tc = rng.getrandbits(8)
    h.fl = rng.getrandbits(20)
    h.hlim = rng.choice([0, 1]) if rng.random() < expired_share else rng.randint(2, 255)
    return h


def split(ip6):
    """An IPv6 packet -> (outer IPv6 header + extension headers, inner packet) when its chain of
    hop-by-hop / routing / destination options headers ends in IPv4 or IPv6, else None."""
    if len(ip6) < 40 or ip6[6] not in EXT_HEADERS:
        return None
    nh, off = ip6[6], 40
    while nh in EXT_HEADERS:
        if off + 2 > len(ip6):
            return None
        nh, off = ip6[off], off + (ip6[off + 1] + 1) * 8
    if nh not in (NH_IPV4, NH_IPV6) or off > len(ip6):
        return None
    return ip6[:off], ip6[off:]


def check_with_scapy(h, block, forwarded):
    """scapy (an outside reading of RFC 8754) must parse the block as an SRH with the segments,
    Segments Left and destination we meant. Returns a problem string or None."""
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrSegmentRouting
    pkt = IPv6(block)
    srh = pkt.getlayer(IPv6ExtHdrSegmentRouting)
    if srh is None:
        return "scapy finds no SRH"
    sl = h.sl - 1 if forwarded else h.sl
    want_dst = h.segments[sl] if forwarded else h.dst
    got = (srh.segleft, srh.lastentry, list(srh.addresses), pkt.dst, pkt.hlim)
    want = (sl, len(h.segments) - 1, h.segments, want_dst, h.hlim - 1 if forwarded else h.hlim)
    return None if got == want else f"scapy reads (SL, LE, segments, dst, hlim) {got}, want {want}"
