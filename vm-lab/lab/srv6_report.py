#!/usr/bin/python3
"""lab-pps-srv6.csv (vm-lab/lab.sh bench with SRv6 points) -> lab-pps-srv6.png (packets/s and CPU
ns/packet against the SRv6 segment count, one line per system, TLV points hollow, the run's MPLS
1-label and NSH MD1 rows as lone markers) + lab-pps-srv6.md (the table and the verdict against
issue 16's goal: >= 90 % of the floor and ahead of the kernel's static SRv6 proxy)."""
import os
import re
import statistics
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from report_common import STYLE, load, nsh_name, run_arguments, static_lines, write_markdown  # noqa: E402

LABEL = {
    "floor": "floor: plain UDP, empty XDP + empty tc programs",
    "static": "static proxy: static_pop XDP + static_push tc (bpf/bench)",
    "ovs": "Open vSwitch static proxy",
    "metadata": "SfcProxy End.AD, metadata key",
    "header-hash": "SfcProxy End.AD, header-hash key",
    "kernel-srv6": "kernel static proxy: End.DX4 in, encap seg6 out",
}
ORDER = list(LABEL)
PROXIES = ("metadata", "header-hash")
TLV_BYTES = 56  # srv6_lab.h: LAB_SRV6_TLV_BYTES
GOAL_FLOOR = 0.90


def srv6_point(e):
    """(segments, with TLVs) of an srv6-N[-t] point, None for any other point."""
    m = re.fullmatch(r"srv6-(\d+)(-t)?", str(e))
    return (int(m.group(1)), bool(m.group(2))) if m else None


def srh_bytes(e):
    n, t = srv6_point(e)
    return 8 + 16 * n + (TLV_BYTES if t else 0)


def point_name(e):
    if isinstance(e, int):
        return "0 (plain)" if e == 0 else f"MPLS {e} label{'s' if e > 1 else ''}"
    if srv6_point(e):
        n, t = srv6_point(e)
        return f"SRv6 {n} seg{'s' if n > 1 else ''}{' + TLVs' if t else ''} (`{e}`, SRH {srh_bytes(e)} B)"
    return nsh_name(e)


def agg(rs, key="rx_pps"):
    v = [float(r[key]) for r in rs if r.get(key) not in (None, "")]
    if not v:
        return float("nan"), float("nan"), float("nan"), 0, 0.0
    return statistics.median(v), min(v), max(v), len(v), min(float(r["ok_share"]) for r in rs)


def plot(a, data, systems, srv6s, title):
    fig, axes = plt.subplots(1, 2, figsize=(14, 5), squeeze=False)
    segs = sorted({srv6_point(e)[0] for e in srv6s})
    panels = [("rx_pps", 1e3, "packets/s at the receiver, thousands (median, bars min..max)"),
              ("cpu_ns_per_pkt", 1, "CPU ns per packet, whole chain (median, bars min..max)")]
    for ax, (key, div, ylab) in zip(axes[0], panels):
        for s in systems:
            st = dict(STYLE[s])
            if s == "floor":
                m, lo, hi, _, _ = agg(data["floor"][0], key)
                ax.plot([min(segs), max(segs)], [m / div] * 2, label=LABEL[s], **st)
                ax.axhspan(lo / div, hi / div, color="0.85", alpha=0.5)
                continue
            for tlv in (False, True):
                es = sorted((srv6_point(e)[0], e) for e in srv6s if e in data[s] and srv6_point(e)[1] == tlv)
                if not es:
                    continue
                ms = [agg(data[s][e], key) for _, e in es]
                kw = dict(st, ls=st["ls"] if not tlv else "none", mfc="none" if tlv else st["color"], ms=9 if tlv else 6)
                ax.errorbar([n for n, _ in es], [x[0] / div for x in ms],
                            yerr=[[(x[0] - x[1]) / div for x in ms], [(x[2] - x[0]) / div for x in ms]],
                            capsize=3, label=LABEL[s] + (f", + {TLV_BYTES} B of TLVs" if tlv else "")
                            + (" (restored without them)" if tlv and s == "kernel-srv6" else ""), **kw)
            for e, mk in ((1, "*"), ("nsh1", "x")):   # the run's other encapsulations, for comparison
                if e in data[s]:
                    m = agg(data[s][e], key)[0]
                    ax.plot([1], [m / div], ls="none", marker=mk, ms=11, color=st["color"],
                            label=f"{s}: {'MPLS 1 label' if e == 1 else 'NSH MD1'} (same run)")
        ax.set_xlabel("SRv6 segments after the proxy SID (SRH 8 + 16 N bytes; hollow: + TLVs)")
        ax.set_ylabel(ylab)
        ax.set_ylim(bottom=0)
        ax.set_xticks(segs)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6, loc="best")
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    name = a.base + ".png"
    fig.savefig(os.path.join(a.out, name), dpi=110)
    return name


def main():
    a = run_arguments("lab-pps-srv6", "vm-lab/lab.sh bench")
    rows, data = load(a.csv)
    systems = [s for s in ORDER if s in data]
    srv6s = sorted({e for s in data for e in data[s] if srv6_point(e)}, key=lambda e: (srv6_point(e)[1], srv6_point(e)[0]))
    utc = rows[0]["utc"][:16].replace("T", " ") if rows else "?"
    floor = agg(data["floor"][0]) if "floor" in data else None
    floor_cost = agg(data["floor"][0], "cpu_ns_per_pkt")[0] if floor else None
    kern = data.get("kernel-srv6", {})
    title = f"lab-bench {rows[0]['run_id'] if rows else '?'} {utc} UTC, kernel VNF, kernel {a.kernel}, {a.cpus} CPUs; SRv6 End.AD"
    png = plot(a, data, systems, srv6s, title) if srv6s else None

    L = ["# Lab: packets per second through SRv6 End.AD against the number of segments (kernel VNF)\n",
         f"Command: `{a.command}`  ",
         f"Run: {utc} UTC, kernel {a.kernel}, {a.cpus} CPUs, {len(rows)} points in {a.seconds} s.  ",
         f"veth offloads: {a.offloads.strip()}\n",
         "The lab of [lab-pps.md](lab-pps.md) (vm-lab/lab/README.md: sender -> proxy host with the kernel VNF, "
         "IP forwarding through the iptables chain SFCVNF -> receiver, the whole chain in softirq on CPU 0) "
         "with SRv6 traffic: Ethernet + outer IPv6 to the proxy SID + SRH + IPv4 + UDP + 64-byte payload, "
         "every frame distinct (vm-lab/lab/srv6_lab.h). `srv6-N`: N segments after the SID (a reduced SRH, "
         "Segments Left N), `-t`: plus 56 bytes of TLVs (HMAC 40 B, an opaque 10 B, PadN 6 B). SfcProxy runs "
         "End.AD (`Encapsulations` with `srv6`, the SID with inner IPv4). **kernel-srv6** is the static "
         "proxy built from the kernel's own behaviours (vm-lab/lab/kernel_srv6.sh): seg6local End.DX4 on the "
         "SID, a route to the receiver with `encap seg6 mode encap segs <the fixed list>` (which takes the "
         "packet before IP forwarding: the VNF's iptables chain never sees it, about 45 ns less work). The kernel "
         "has no End.AS and its End.DX4 drops an SRH with Segments Left > 0, so it is sent the same-sized "
         "`srv6-N-sl0` frames (the SID as the upstream policy's last segment). It is static: it restores the "
         "configured SRH, never the packet's own, so **its TLV rows arrive without the TLVs (0 % as "
         "expected)**: those rows compare rates of different work. The run's MPLS 1-label and NSH MD1 rows "
         "are there for comparison.\n"]
    if png:
        L.append(f"![pps and cost vs SRv6 segments]({png})\n")
    L += ["| system | point | median pps | min..max | runs | % of floor | vs kernel-srv6 | CPU ns/packet (min..max) "
          "| floor cost / cost | arrived as expected | load1 (median) |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in systems:
        pts = [0] if s == "floor" else [e for e in (1, "nsh1") if e in data[s]] + [e for e in srv6s if e in data[s]]
        for e in pts:
            rs = data[s][e]
            m, lo, hi, k, ok = agg(rs)
            c, clo, chi, _, _ = agg(rs, "cpu_ns_per_pkt")
            pf = f"{100 * m / floor[0]:.0f} %" if floor and s != "floor" else ""
            vk = f"{m / agg(kern[e])[0]:.2f}x" if s in PROXIES and e in kern else ""
            cf = f"{100 * floor_cost / c:.0f} %" if floor and s != "floor" else ""
            ld = statistics.median(float(r["load1"]) for r in rs)
            L.append(f"| {s} | {point_name(e)} | {m:,.0f} | {lo:,.0f}..{hi:,.0f} | {k} | {pf} | {vk} | "
                     f"{c:,.0f} ({clo:,.0f}..{chi:,.0f}) | {cf} | {100 * ok:.1f} % | {ld:.2f} |")

    # the verdict, per SfcProxy key mode, over the SRv6 points
    if floor and srv6s:
        L.append(f"\n## Verdict against the goal (>= {100 * GOAL_FLOOR:.0f} % of the floor, ahead of kernel-srv6)\n")
        for s in PROXIES:
            if s not in data:
                continue
            es = [e for e in srv6s if e in data[s]]
            pf = [(agg(data[s][e])[0] / floor[0], e) for e in es]
            cf = [(floor_cost / agg(data[s][e], "cpu_ns_per_pkt")[0], e) for e in es]
            # kernel-srv6 drops the TLVs (static): only the points without TLVs are the same work
            same = [e for e in es if e in kern and not srv6_point(e)[1]]
            vk = [(agg(data[s][e])[0] / agg(kern[e])[0], e) for e in same]
            ck = [(agg(kern[e], "cpu_ns_per_pkt")[0] / agg(data[s][e], "cpu_ns_per_pkt")[0], e) for e in same]
            ok = min(agg(data[s][e])[4] for e in es)
            line = (f"- **{s}**: packet rate {100 * min(pf)[0]:.0f} .. {100 * max(pf)[0]:.0f} % of the floor "
                    f"(lowest at `{min(pf)[1]}`): {'met' if min(pf)[0] >= GOAL_FLOOR else 'missed'}; by cost "
                    f"(floor cost / cost, robust to other load) {100 * min(cf)[0]:.0f} .. {100 * max(cf)[0]:.0f} %: "
                    f"{'met' if min(cf)[0] >= GOAL_FLOOR else 'missed'}.")
            if vk:
                ahead = min(vk)[0] > 1 and min(ck)[0] > 1
                behind = max(vk)[0] < 1 and max(ck)[0] < 1
                line += (f" Against kernel-srv6 (the points without TLVs): rate {min(vk)[0]:.2f}x .. {max(vk)[0]:.2f}x, "
                         f"kernel-srv6's cost / this one's {min(ck)[0]:.2f}x .. {max(ck)[0]:.2f}x (above 1: SfcProxy "
                         f"is cheaper): {'ahead at every point' if ahead else 'behind at every point by cost' if max(ck)[0] < 1 else 'not ahead at every point'}"
                         f"{' and rate' if behind else ''}.")
            line += f" Arrived as End.AD must emit them: at least {100 * ok:.1f} % of the frames in every run."
            L.append(line)
    L += static_lines(data, floor, srv6s, agg)
    L.append("\nCPU ns/packet and 'floor cost / cost': as in [lab-pps.md](lab-pps.md) (the sender's CPU time, "
             "which includes the whole chain in its softirq, plus ksoftirqd/0's, per packet sent); the cost "
             "does not fall when other work takes CPU 0 away, the rate does. load1: the 1-minute load average "
             "when each point was measured (2 CPUs; other engineers' builds ran on this machine).")
    L.append("\n'arrived as expected': the smallest share, over the runs, of frames at the receiver carrying "
             "the SRH End.AD must emit (vm-lab/lab/lab.bpf.c srv6_slot): Segments Left decremented to Last "
             "Entry, destination = the next segment (2001:2:e::1), next header, flags, tag, every segment and "
             "the TLVs byte for byte as sent (none for srv6-N), payload length = SRH + the inner IPv4 packet, "
             "the generator's IPv4/UDP header behind the SRH. A frame with Segments Left not decremented "
             "counts as wrong (checked by hand: the sent frames, counted on the proxy's ingress, all land in "
             "the 'other' slot). Not judged: the outer source, hop limit and flow label (kernel-srv6 writes "
             "its own). MPLS and NSH rows: as in lab-pps.md.")
    write_markdown(a, rows, L, "the packet rates are noisy; the CPU ns/packet column is the steadier figure.")


if __name__ == "__main__":
    main()
