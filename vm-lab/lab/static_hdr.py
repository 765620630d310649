#!/usr/bin/python3
"""static_push_hdr's value (bpf/bench/static_push.bpf.c struct static_hdr) for one lab point, as the
hex bytes `bpftool map update ... value hex` takes (vm-lab/lab/static.sh, system static).

The header is the one SfcProxy restores for the frames trafgen.c sends at that point, with
ConsumedSegments 1 (vm-lab/lab.sh; tc_tx, tx_push.h, tx_srv6.h), so the receiver's check
(vm-lab/lab/lab.bpf.c count) judges the static rows as it judges SfcProxy's:
  N (SR-MPLS labels 16000..16000+N-1, TTL 64): the stack minus the top entry, labels 16001.., BoS on
     the last, the new top entry's TTL the popped one's - 1 (63); 1 label: nothing (plain IPv4).
  nsh1 / nsh2[-V]: the NSH header as sent (MD1 context or the MD2 TLVs byte for byte) with TTL 62
     and Service Index 254 (SPI 42, next protocol IPv4).
  srv6-N[-t]: End.AD's output: outer IPv6 2001:2:1::1 -> 2001:2:e::1 (the next segment), hop limit
     63, payload length = SRH + the inner IPv4 packet (92 bytes: IPv4 + UDP + 64), and the SRH as
     sent (srv6_lab.h) with Segments Left N - 1 (the TLVs byte for byte with -t).
Usage: static_hdr.py POINT   (prints the 408 value bytes as hex, space-separated)
"""
import ipaddress
import re
import struct
import sys

STATIC_MAX_HDR = 384          # static_push.bpf.c
INNER = 20 + 8 + 64           # trafgen.c: IPv4 + UDP + 64-byte payload
NSH_TLV_MAX = 124             # trafgen.c
SRV6_SRC, SRV6_SEG = "2001:2:1::1", "2001:2:e::"   # srv6_lab.h: LAB_SRV6_SRC, segment i = 2001:2:e::i
SRV6_TLV_BYTES = 56           # srv6_lab.h: LAB_SRV6_TLV_BYTES


def srv6_tlv_byte(k):         # srv6_lab.h: lab_srv6_tlv_byte
    if k < 8:
        return 5 if k == 0 else 38 if k == 1 else 1 if k == 7 else 0
    if k < 40:
        return 0xc0 + (k - 8)
    if k < 50:
        return 124 if k == 40 else 8 if k == 41 else 0x7c
    return 4 if k in (50, 51) else 0


def mpls(n):
    out = b""
    for i in range(1, n):     # the top entry (label 16000) is the consumed segment
        out += struct.pack("!I", (16000 + i) << 12 | (0x100 if i == n - 1 else 0) | (63 if i == 1 else 64))
    return 0x8847, out


def nsh(point):
    md, tlv = (1, -1) if point == "nsh1" else (2, int(point[5:]) if point.startswith("nsh2-") else -1)
    tlvs = []   # trafgen.c: (offset in the metadata, value bytes) of TLVs of at most NSH_TLV_MAX
    size, v = 16, tlv
    if md == 2:
        size = 0
        while v >= 0:
            k = min(v, NSH_TLV_MAX)
            tlvs.append((size, k))
            size += 4 + ((k + 3) & ~3)
            if v <= NSH_TLV_MAX:
                break
            v -= NSH_TLV_MAX
    meta = bytearray(0x5a ^ i for i in range(size))   # as trafgen fills it, then the TLV headers
    for t, k in tlvs:   # class 0x0102, type 3, length k, zero padding to 4
        meta[t:t + 4] = bytes([1, 2, 3, k])
        meta[t + 4 + k:t + 4 + ((k + 3) & ~3)] = bytes(((k + 3) & ~3) - k)
    meta = bytes(meta)
    length, ttl = (8 + len(meta)) // 4, 62   # sent with TTL 63, SI 255: the proxy decrements both
    base = bytes([ttl >> 2, (ttl & 3) << 6 | length, md, 1, 0, 0, 42, 254])
    return 0x894F, base + meta


def srv6(n, tlvs):
    srh_len = 8 + 16 * n + (SRV6_TLV_BYTES if tlvs else 0)
    srh = bytes([4, srh_len // 8 - 1, 4, n - 1, n - 1, 0, 0, 0])
    for j in range(n):
        srh += ipaddress.IPv6Address(SRV6_SEG + format(n - j, "x")).packed
    srh += bytes(srv6_tlv_byte(k) for k in range(SRV6_TLV_BYTES)) if tlvs else b""
    ip6 = struct.pack("!IHBB", 6 << 28, srh_len + INNER, 43, 63) + ipaddress.IPv6Address(SRV6_SRC).packed \
        + ipaddress.IPv6Address(SRV6_SEG + "1").packed
    return 0x86DD, ip6 + srh


def header(point):
    if re.fullmatch(r"\d+", point) and 1 <= int(point) <= 16:
        return mpls(int(point))
    if re.fullmatch(r"nsh(1|2|2-\d+)", point):
        return nsh(point)
    m = re.fullmatch(r"srv6-(\d+)(-t)?", point)
    if m and 1 <= int(m.group(1)) <= 16:
        return srv6(int(m.group(1)), bool(m.group(2)))
    sys.exit(f"static_hdr.py: point {point}: N (1..16 labels), nsh1, nsh2[-V] or srv6-N[-t]")


def value(point):
    proto, hdr = header(point)
    assert len(hdr) <= STATIC_MAX_HDR, point
    # struct static_hdr: __u32 len (host order), __be16 proto, __u16 reserved, eth[14], hdr[384], pad[2]
    return struct.pack("=IHH", len(hdr), struct.unpack("=H", struct.pack("!H", proto))[0], 0) \
        + bytes(14) + hdr + bytes(STATIC_MAX_HDR - len(hdr)) + bytes(2)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(" ".join(f"{b:02x}" for b in value(sys.argv[1])))
