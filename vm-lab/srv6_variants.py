"""vm-lab/srv6-variants.sh's two halves: `edit VARIANT DIR` cuts one part of the SRv6 path out of
the sources in DIR; `table WORK ROUNDS VARIANT...` summarises the bench runs WORK/out-VARIANT-ROUND.md."""
import statistics
import sys

# variant -> edits, each (file, [(text in it, replacement), ...]): the first text the file holds is
# replaced; an edit marked optional may find none (the copies moved between 746d284 and 310fc70)
EDITS = {
    'base': [],
    'nosid': [('bpf/xdp_rx/rx_srv6.h', [('for (sid = 0; sid < SFC_SRV6_MAX_SIDS; sid++) {', 'for (sid = 0; sid < 0; sid++) {')])],
    'nowalk': [
        ('bpf/xdp_rx/rx_srv6.h', [('for (i = 0; i < SFC_SRV6_MAX_EXT; i++) {\n\t\tif (nh != SFC_NH_HOPOPTS',
          'srh_off = off; p = (__u8 *)ip6 + off; if ((void *)(p + SFC_SRH_HLEN) > data_end) return SFC_CNT_RX_SRV6_BAD_LENGTH;'
          ' nh = p[0]; off += ((__u32)p[1] + 1) * 8;\n\tfor (i = 0; i < 0; i++) {\n\t\tif (nh != SFC_NH_HOPOPTS')]),
        ('bpf/xdp_rx/rx_srv6.h', [('for (i = 0; i < SFC_SRH_MAX_TLVS; i++) {\n\t\tif (t >= end)',
                                   't = end;\n\tfor (i = 0; i < 0; i++) {\n\t\tif (t >= end)')]),
    ],
    'nocopy': [
        ('bpf/sfc/sfc_maps.h', [
            ('\tif (len > 320)\n\t\t__builtin_memcpy(dst + 320', '\tlen = 0;\n\tif (len > 320)\n\t\t__builtin_memcpy(dst + 320'),
            ('\tif (len <= 128)\n\t\t__builtin_memcpy(d, s, 128);\n\telse if (len <= 256)\n\t\t__builtin_memcpy(d, s, 256);'
             '\n\telse\n\t\t__builtin_memcpy(d, s, SFC_SRV6_MAX_LEN);', '\t(void)len;\n\t__builtin_memcpy(d, s, 64);'),
        ]),
        ('?bpf/tc_tx/tx_srv6.h', [
            ('\tif (len <= 128)\n\t\t__builtin_memcpy(dst, src, 128);\n\telse if (len <= 256)\n\t\t__builtin_memcpy(dst, src, 256);'
             '\n\telse\n\t\t__builtin_memcpy(dst, src, SFC_SRV6_MAX_LEN);', '\t(void)len;\n\t__builtin_memcpy(dst, src, 64);'),
        ]),
    ],
    'nopush': [('bpf/tc_tx/tc_tx.bpf.c', [('\tif (push_headers(skb, buf, l2_len, hdr_len, grow) < 0)',
                                           '\tif (srv6 == 1)\n\t\tgoto out;\n\tif (push_headers(skb, buf, l2_len, hdr_len, grow) < 0)')])],
}


def edit(variant, d):
    for path, choices in EDITS[variant]:
        optional = path.startswith('?')
        p = f"{d}/{path.lstrip('?')}"
        s = open(p).read()
        for old, new in choices:
            if old in s:
                open(p, 'w').write(s.replace(old, new, 1))
                break
        else:
            if not optional:
                sys.exit(f"srv6-variants: {variant}: {path} no longer holds the text the edit replaces")


def rows(path):
    """{(mode, headers): medians of rx, tx, round trip, static} of one `sfcproxy bench --output` table."""
    out = {}
    for line in open(path):
        c = [x.strip() for x in line.strip().strip('|').split('|')]
        if len(c) == 12 and c[0] in ('metadata', 'header-hash'):
            med = [float(c[i].split('/')[1]) for i in (2, 3, 4, 5)]
            out[(c[0], c[1])] = dict(zip(('rx', 'tx', 'rt', 'st'), med))
    return out


def table(work, rounds, variants):
    data = {v: [rows(f"{work}/out-{v}-{r}.md") for r in range(1, rounds + 1)] for v in variants}
    base = variants[0]
    print("Medians over the rounds (ns): rx, tx, round trip (round trip / static); then each variant's round trip"
          f" minus {base}'s, same round (median over the rounds):\n")
    print("| key mode | headers | " + " | ".join(variants) + " | " + " | ".join(f"{v} - {base}" for v in variants[1:]) + " |")
    print("|---|---|" + "---:|" * (2 * len(variants) - 1))
    for k in data[base][0]:
        cells = []
        for v in variants:
            m = {f: statistics.median(d[k][f] for d in data[v]) for f in ('rx', 'tx', 'rt')}
            ratio = statistics.median(d[k]['rt'] / d[k]['st'] for d in data[v])
            cells.append(f"{m['rx']:.0f}, {m['tx']:.0f}, {m['rt']:.0f} ({ratio:.2f}x)")
        diffs = [f"{statistics.median(data[v][r][k]['rt'] - data[base][r][k]['rt'] for r in range(rounds)):+.0f}"
                 for v in variants[1:]]
        print(f"| {k[0]} | {k[1]} | " + " | ".join(cells + diffs) + " |")


if sys.argv[1] == 'edit':
    edit(sys.argv[2], sys.argv[3])
else:
    table(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
