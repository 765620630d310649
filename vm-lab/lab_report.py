#!/usr/bin/python3
"""lab-pps.csv (vm-lab/lab.sh bench) -> lab-pps.png (packets/s vs labels, one line per system), lab-pps-nsh.png
(packets/s and cost vs NSH header bytes, when the run has NSH points) + lab-pps.md."""
import os
import statistics
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lab"))
from report_common import STYLE, load, nsh_bytes, nsh_name, run_arguments, static_lines, write_markdown  # noqa: E402

LABEL = {
    "floor": "floor: plain UDP, empty XDP + empty tc programs",
    "static": "static proxy: static_pop XDP + static_push tc (bpf/bench), the job's limit in these hooks",
    "ovs": "Open vSwitch static proxy (userspace datapath; cannot pop more than 3 labels)",
    "metadata": "SfcProxy, metadata key",
    "header-hash": "SfcProxy, header-hash key",
}
ORDER = list(LABEL)
VNF_TEXT = {
    "kernel": "Sender -> proxy host (kernel VNF: IP forwarding through the iptables chain SFCVNF) -> receiver, ",
    "tun": "Sender -> proxy host (user-mode VNF: tests/e2e/tun_vnf.py, Python, reads every packet from a TUN "
           "and writes it back; policy routing sends the ingress into the TUN; CPU ns/packet does not "
           "include the VNF process, which runs on the other CPU) -> receiver, ",
    "sidecar": "Sender -> proxy host -> VNF in its own namespace -> proxy host -> receiver (sidecar layout, "
               "vm-lab/lab/sidecar.sh: SfcProxy's xdp_rx XDP_REDIRECTs popped packets through its devmap "
               "(Interfaces:Vnf) into a veth to the VNF namespace, which forwards them through the iptables "
               "chain SFCVNF over a second veth back into the proxy namespace, which routes them out of the "
               "egress through tc_tx; header-hash key only, the metadata key cannot leave the proxy's stack. "
               "The floor here is the same wiring with an XDP program that redirects every frame to the "
               "VNF's veth without parsing it (vm-lab/lab/lab.bpf.c:redirect) and the empty tc program), ",
}


OVS_NSH_MAX = 248  # ovs.sh: OVS aborts pushing 244 bytes of MD2 metadata (the 252-byte header)




class _Nsh(dict):
    def __missing__(self, k):
        return nsh_name(k) if isinstance(k, str) else k


NSH = _Nsh()



def agg(rs, key="rx_pps"):
    v = [float(r[key]) for r in rs if r.get(key) not in (None, "")]
    if not v:
        return float("nan"), float("nan"), float("nan"), 0, 0.0
    ok = min(float(r["ok_share"]) for r in rs)
    return statistics.median(v), min(v), max(v), len(v), ok


def has_cpu(rows):
    return bool(rows) and rows[0].get("cpu_ns_per_pkt") not in (None, "")


def nsh_plot(a, data, systems, floor, nshs, cpu, title):
    """lab-pps-nsh.png: rate (and CPU ns/packet) against the NSH header bytes; MD2 as a line per
    system, MD1 (24 B) as a lone hollow marker. None when the run has no NSH points."""
    if not nshs:
        return None
    fig, axes = plt.subplots(1, 2 if cpu else 1, figsize=(12 if cpu else 7, 4.5), squeeze=False)
    panels = [("rx_pps", 1e3, "packets/s at the receiver, thousands (median, bars min..max)")]
    if cpu:
        panels.append(("cpu_ns_per_pkt", 1, "CPU ns per packet, whole chain (median, bars min..max)"))
    sizes = sorted({nsh_bytes(e) for e in nshs})
    for ax, (key, div, ylab) in zip(axes[0], panels):
        for s in systems:
            if s == "floor":
                m, lo, hi, _, _ = agg(data["floor"][0], key)
                ax.plot([min(sizes), max(sizes)], [m / div] * 2, label=LABEL[s].split(",")[0] + " (no NSH)", **STYLE[s])
                ax.axhspan(lo / div, hi / div, color="0.85", alpha=0.5)
                continue
            md2 = sorted((nsh_bytes(e), e) for e in nshs if e != "nsh1" and e in data[s])
            ms = [agg(data[s][e], key) for _, e in md2]
            st = dict(STYLE[s])
            if md2:
                ax.errorbar([b for b, _ in md2], [x[0] / div for x in ms],
                            yerr=[[(x[0] - x[1]) / div for x in ms], [(x[2] - x[0]) / div for x in ms]],
                            capsize=3, label=LABEL[s].split(" (")[0] + ", MD2", **st)
            if "nsh1" in data[s]:
                m1 = agg(data[s]["nsh1"], key)
                ax.plot([24], [m1[0] / div], ls="none", marker=st.get("marker") or "o", mfc="none",
                        mec=st["color"], ms=9, label=LABEL[s].split(" (")[0] + ", MD1")
        ax.set_xlabel("NSH header bytes (MD2: 8 = no TLV .. 252 = NSH's largest; MD1 is always 24)")
        ax.set_ylabel(ylab)
        ax.set_ylim(bottom=0)
        ax.set_xticks(sorted(set(sizes) | {24}))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(f"{title}, kernel {a.kernel}; NSH against its header size", fontsize=8)
    fig.tight_layout()
    name = a.base + "-nsh.png"
    fig.savefig(os.path.join(a.out, name), dpi=110)
    return name


def nsh_table(data, systems, nshs, cpu, png):
    """The NSH rows again, by header size, with each one's rate and cost against the smallest."""
    L = ["\n## NSH against the header size\n", f"![pps vs NSH header bytes]({png})\n",
         "| system | NSH | header bytes | median pps | vs smallest MD2 | CPU ns/packet | +ns vs smallest MD2 | arrived with the expected stack |",
         "|---|---|---:|---:|---:|---:|---:|---:|"]
    for s in systems:
        if s == "floor":
            continue
        es = [e for e in nshs if e in data[s]]
        if not es:
            if s == "ovs":
                L.append("| ovs | (not measured: --quick runs ovs at 1 label only) | | | | | | |")
            continue
        b = next((e for e in es if e != "nsh1"), es[0])   # the smallest MD2 header
        b_m = agg(data[s][b])[0]
        b_c = agg(data[s][b], "cpu_ns_per_pkt")[0] if cpu else 0
        for e in es:
            m, _, _, _, ok = agg(data[s][e])
            c = agg(data[s][e], "cpu_ns_per_pkt")[0] if cpu else float("nan")
            L.append(f"| {s} | MD{1 if e == 'nsh1' else 2} (`{e}`) | {nsh_bytes(e)} | {m:,.0f} | "
                     f"{m / b_m:.2f}x | {c:,.0f} | {c - b_c:+,.0f} | {100 * ok:.1f} % |")
        if s == "ovs":
            for e in sorted((e for e in nshs if e not in data[s] and nsh_bytes(e) > OVS_NSH_MAX), key=nsh_bytes):
                L.append(f"| ovs | MD2 (`{e}`) | {nsh_bytes(e)} | OVS cannot | | | | |")
    return L


def main():
    a = run_arguments("lab-pps", "vm-lab/lab.sh bench")
    rows, data = load(a.csv)
    systems = [s for s in ORDER if s in data]
    labels = sorted({int(r["labels"]) for r in rows if r["system"] != "floor" and r.get("encap", "mpls") == "mpls"})
    def labels_of(s):  # the label counts system s was measured at (ovs: at most 3)
        return sorted(k for k in data.get(s, {}) if isinstance(k, int))
    ovs = data.get("ovs", {})
    # MD1 first, then MD2 by header size
    nshs = sorted({r["encap"] for r in rows if r.get("encap", "mpls") != "mpls"}, key=lambda e: (e != "nsh1", nsh_bytes(e)))
    utc = rows[0]["utc"][:16].replace("T", " ") if rows else "?"
    vnf = rows[0].get("vnf", "kernel") if rows else "kernel"
    floor = agg(data["floor"][0]) if "floor" in data else None
    if vnf == "sidecar":
        LABEL["floor"] = "floor: plain UDP, XDP redirect to the VNF veth + empty tc programs"

    cpu = has_cpu(rows)
    fig, axes = plt.subplots(1, 2 if cpu else 1, figsize=(14 if cpu else 8, 5), squeeze=False)
    xs = labels or [1, 16]
    panels = [("rx_pps", 1e3, "packets/s at the receiver, thousands (median, bars min..max)",
               "Packet rate of the chain on one core")]
    if cpu:
        panels.append(("cpu_ns_per_pkt", 1, "CPU ns per packet, whole chain (median, bars min..max)",
                       "Cost per packet (robust to other load)"))
    for ax, (key, div, ylab, ttl) in zip(axes[0], panels):
        for s in systems:
            if s == "floor":
                m, lo, hi, _, _ = agg(data["floor"][0], key)
                ax.plot([min(xs), max(xs)], [m / div] * 2, label=LABEL[s], **STYLE[s])
                ax.axhspan(lo / div, hi / div, color="0.85", alpha=0.5)
                continue
            ls = labels_of(s)
            ms = [agg(data[s][n], key) for n in ls]
            ax.errorbar(ls, [x[0] / div for x in ms],
                        yerr=[[(x[0] - x[1]) / div for x in ms], [(x[2] - x[0]) / div for x in ms]],
                        capsize=3, label=LABEL[s], **STYLE[s])
        ax.set_xlabel("SR-MPLS labels per packet (sent; the proxy restores all but the consumed one)")
        ax.set_ylabel(ylab)
        ax.set_ylim(bottom=0)
        ax.set_xticks(xs)
        ax.grid(True, alpha=0.3)
        ax.set_title(ttl, fontsize=9)
        ax.legend(fontsize=7, loc="best")
    r0 = rows[0] if rows else {}
    fig.suptitle(f"lab-bench {r0.get('run_id', '?')} {utc} UTC, {vnf} VNF, kernel {a.kernel}, {a.cpus} CPUs; "
                 "64 B UDP payload, every packet distinct", fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, a.base + ".png"), dpi=110)

    nsh_png = nsh_plot(a, data, systems, floor, nshs, cpu, f"lab-bench {r0.get('run_id', '?')} {utc} UTC, {vnf} VNF")

    L = [f"# Lab: packets per second against the number of SR-MPLS labels ({vnf} VNF)\n",
         f"Command: `{a.command}`  ",
         f"Run: {utc} UTC, kernel {a.kernel}, {a.cpus} CPUs, {len(rows)} points in {a.seconds} s.  ",
         f"veth offloads: {a.offloads.strip()}\n",
         VNF_TEXT.get(vnf, VNF_TEXT["tun"]) +
         "three namespaces joined by veth pairs (tests/e2e/topology.sh). Traffic: Ethernet + N label "
         "entries + IPv4 + UDP + 64-byte payload from vm-lab/lab/trafgen (XDP program under "
         "BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX out of the sender veth); every "
         "frame has its own IPv4 id, UDP source port and payload counter, so every packet is its own "
         "cache entry. Rate = frames counted by a tc ingress program on the receiver veth over the "
         "measuring window, after a warm-up. The sender runs on CPU 0 and the whole path (proxy XDP, "
         "forwarding, tc egress, receiver) runs in softirq on that same CPU, so the rate is the "
         "packet rate of the whole chain on one core; the generator is held back by it (sent ~= "
         "received). The floor is the same chain with plain UDP and empty programs where SfcProxy's "
         "sit (no labels, one line).\n",
         f"![pps vs labels]({a.base}.png)\n",
         "| system | labels | median pps | min..max | runs | % of floor | vs OVS | vs 1 label | CPU ns/packet (min..max) | floor cost / cost | arrived with the expected stack |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    ratios = []  # SfcProxy / OVS packet rate at the points both measured
    for s in systems:
        ns = [0] if s == "floor" else labels_of(s) + [e for e in nshs if e in data[s]]
        base = agg(data[s][ns[0]])[0]
        for n in ns:
            m, lo, hi, k, ok = agg(data[s][n])
            pf = f"{100 * m / floor[0]:.0f} %" if floor and s != "floor" else ""
            v1 = f"{m / base:.2f}x" if s != "floor" and isinstance(n, int) else ""
            vo = ""
            if ovs and s not in ("floor", "ovs"):
                if n in ovs and agg(ovs[n])[0] > 0:
                    r = m / agg(ovs[n])[0]
                    if s != "static":   # the goal is SfcProxy's
                        ratios.append((r, s, n))
                    vo = f"{r:.1f}x"
                elif isinstance(n, int) and n > 3:
                    vo = "OVS cannot"
                elif isinstance(n, str) and nsh_bytes(n) > OVS_NSH_MAX and any(isinstance(k, str) for k in ovs):
                    vo = "OVS cannot"
            cc = cf = ""
            if cpu:
                cm, clo, chi, _, _ = agg(data[s][n], "cpu_ns_per_pkt")
                cc = f"{cm:,.0f} ({clo:,.0f}..{chi:,.0f})"
                if floor and s != "floor":
                    cf = f"{100 * agg(data['floor'][0], 'cpu_ns_per_pkt')[0] / cm:.0f} %"
            nn = NSH[n] if s != "floor" else "0 (plain)"
            L.append(f"| {s} | {nn} | {m:,.0f} | {lo:,.0f}..{hi:,.0f} | {k} | "
                     f"{pf} | {vo} | {v1} | {cc} | {cf} | {100 * ok:.1f} % |")
    L += static_lines(data, floor, labels + nshs, agg)
    if nsh_png:
        L += nsh_table(data, systems, nshs, cpu, nsh_png)
    if ovs:
        L.append("\n**ovs** (vm-lab/lab/ovs.sh): Open vSwitch 3.1, userspace datapath (datapath_type=netdev), "
                 "its own ovsdb-server and ovs-vswitchd in the proxy namespace on CPU 1, configured as a static "
                 "proxy: OpenFlow rules pop every label (pop_mpls) or decap NSH, hand the plain IPv4 packet "
                 "through an internal port (a tap) to the same kernel VNF (forwarding through SFCVNF; a host "
                 "route sends it out of a second internal port) and push the fixed stack SfcProxy restores "
                 "(N-1 labels; NSH SPI 42 SI 254) on its way to the receiver. The proxy ingress veth carries "
                 "the floor's empty XDP program (the generator's XDP frames need it). OVS parses at most 3 "
                 "label stack entries (FLOW_MAX_MPLS_LABELS) and drops packets it would have to pop deeper, "
                 "so it is measured at 1..3 labels: 'OVS cannot' below. NSH MD2 up to a 248-byte header: at "
                 "252 bytes (244 bytes of metadata, NSH's largest) ovs-vswitchd aborts as it installs the "
                 "push ('assertion encap_data->size < NSH_CTX_HDRS_MAX_LEN failed'), 'OVS cannot' too. Its side of the chain runs on CPU 1, "
                 "not in the generator's softirq on CPU 0: OVS gets a core of its own, which favours it.")
        if ratios:
            lo = min(ratios)
            L.append(f"\n**Goal: SfcProxy at least 3x the Open vSwitch static proxy** (same label count or NSH "
                     f"type, packet rate): {'met' if lo[0] >= 3 else 'missed'}; SfcProxy / OVS = "
                     f"{lo[0]:.1f}x .. {max(ratios)[0]:.1f}x (lowest: {lo[1]} at {NSH[lo[2]]}"
                     f"{(' label' if lo[2] == 1 else ' labels') if isinstance(lo[2], int) else ''}). From 4 labels on only SfcProxy proxies at all.")
    if cpu:
        L.append("\nCPU ns/packet: CPU time of the sender process (generator plus, in softirq on its CPU, the "
                 "proxy's XDP, forwarding through the VNF, tc egress and the receiver's counter) plus "
                 "ksoftirqd/0's, over the packets sent; tick-based accounting (HZ ticks, no "
                 "IRQ_TIME_ACCOUNTING), so it is a sampled figure. It is the chain's cost per packet and, "
                 "unlike the rate, does not fall when other work takes CPU 0 away: 'floor cost / cost' is "
                 "the rate SfcProxy would reach as a share of the floor's on an otherwise idle core."
                 + (" For ovs it adds the CPU time of ovs-vswitchd (all threads, including the kernel work "
                    "its tap and veth writes trigger) and ksoftirqd/1 over the packets it delivered: the "
                    "generator sends faster than OVS forwards, and OVS drops the rest at its socket."
                    if ovs else ""))
    L.append("\n'arrived with the expected stack': the smallest share, over the runs, of frames at the "
             "receiver carrying labels - 1 entries (plain IPv4 for 1 label, ConsumedSegments 1) or, for "
             "NSH rows, an NSH header with next protocol IPv4 and the generator's IPv4/UDP header right behind "
             "its Length (so a header restored shorter or longer than sent does not count; sent with TTL 63, "
             "SPI 42, SI 255, the proxy restores it with SI and TTL - 1); "
             "anything else means the proxy did not restore the stack.")
    write_markdown(a, rows, L)


if __name__ == "__main__":
    main()
