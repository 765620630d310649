#!/usr/bin/python3
"""lab-tcp[-tun].csv (vm-lab/lab.sh bench-tcp [--vnf tun]) -> .png (TCP Gbit/s vs labels, one line per system) + .md."""
import os
import statistics

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from report_common import STYLE, load, nsh_name, run_arguments, write_markdown  # noqa: E402

LABEL = {
    "floor": "floor: plain TCP (empty encap, empty XDP + tc programs at the proxy)",
    "metadata": "SfcProxy, metadata key",
    "header-hash": "SfcProxy, header-hash key",
}

# Why each setting is what it is; printed under the offloads in the markdown.
WHY = [
    "**MTU 1600 on every lab veth, route MTU 1500 / advmss 1460 at both ends**: TCP segments stay "
    "1500-byte IP packets and the labels (up to 64 B) or the NSH header (up to 76 B here) fit on top; "
    "a veth drops a frame longer than its peer's MTU.",
    "**Sender `gso_max_segs`**: 1 (the default) makes every skb one TCP segment (TCP builds multi-segment "
    "GSO skbs even with TSO/GSO off), so the encap program pushes per packet on the wire. This is what "
    "makes the rate low (one skb, one trip through the whole chain, per 1448 bytes): the floor pays it "
    "too. With more (`--gso-max-segs`), the encap program pushes once per GSO skb and the sender's "
    "software GSO copies the headers into each segment; the proxy still sees one packet per segment, "
    "but in bursts of up to 44 that can overflow its ingress veth's XDP ring (dropped at the sender "
    "veth: TCP retransmits).",
    "**Sender TSO shows off [fixed]**: veth drops the TSO features of a device whose peer has a native "
    "XDP program (the proxy ingress); with `gso_max_segs 1` there is nothing to segment anyway, and with more "
    "(`--gso-max-segs`) the sender's software GSO cuts each skb after the encap program, copying the pushed "
    "headers into every segment.",
    "**Sender tx-checksumming on**: TCP leaves the checksum to the 'device'; a veth passes "
    "CHECKSUM_PARTIAL along and the receiver trusts it, so no checksum is computed anywhere. The labels "
    "are pushed in front of the IP header and do not move csum_start's target.",
    "**Proxy GRO off** (topology.sh, SfcProxy's DisableGro): with an XDP program attached the veth "
    "receives in NAPI, and GRO would merge segments whose labels xdp_rx popped into one skb (one skb, "
    "many cache entries).",
    "**Receiver**: the decap program is native XDP (`--decap xdpgeneric` to compare); tc cannot strip "
    "the labels (bpf_skb_adjust_room refuses a frame whose skb->protocol is MPLS or NSH). GRO stays at "
    "the veth default.",
]


# The proxy host's VNF (bench-tcp --vnf), as the markdown describes the chain.
VNF_TEXT = {
    "kernel": "kernel VNF: IP forwarding through the iptables chain SFCVNF",
    "tun": "user-mode VNF: tests/e2e/tun_vnf.py, Python, on CPU 1 beside the iperf3 server, reads every "
           "packet from a TUN (txqueuelen 2048) and writes it back; policy routing sends what arrives on "
           "the ingress into the TUN. Header-hash key only: the metadata key cannot cross user space",
}


def agg(rs, key="gbps"):
    v = [float(r[key]) for r in rs]
    return statistics.median(v), min(v), max(v), len(v)


def main():
    a = run_arguments("lab-tcp", "vm-lab/lab.sh bench-tcp")
    rows, data = load(a.csv)
    systems = [s for s in LABEL if s in data]
    labels = sorted({int(r["labels"]) for r in rows if r["system"] != "floor" and r["encap"] == "mpls"})
    nshs = sorted({r["encap"] for r in rows if r["encap"] != "mpls"})
    utc = rows[0]["utc"][:16].replace("T", " ") if rows else "?"
    floor = agg(data["floor"][0]) if "floor" in data else None
    decap = rows[0].get("decap", "xdp") if rows else "?"
    cc = rows[0].get("cc", "?") if rows else "?"
    gso = rows[0].get("gso_max_segs") or "1" if rows else "1"
    vnf = (rows[0].get("vnf") or "kernel") if rows else "kernel"

    cpu = bool(rows) and rows[0].get("cpu_ns_per_seg") not in (None, "")
    fig, axes = plt.subplots(1, 2 if cpu else 1, figsize=(14 if cpu else 8, 5), squeeze=False)
    xs = labels or [1, 16]
    panels = [("gbps", "TCP Gbit/s at the iperf3 server (median, bars min..max)", "Throughput of one TCP stream")]
    if cpu:
        panels.append(("cpu_ns_per_seg", "CPU ns per TCP segment, whole chain (median, bars min..max)",
                       "Cost per segment (robust to other load)"))
    for ax, (key, ylab, ttl) in zip(axes[0], panels):
        for s in systems:
            if s == "floor":
                m, lo, hi, _ = agg(data["floor"][0], key)
                ax.plot([min(xs), max(xs)], [m] * 2, label=LABEL[s], **STYLE[s])
                ax.axhspan(lo, hi, color="0.85", alpha=0.5)
                continue
            ns = [n for n in labels if n in data[s]]
            ms = [agg(data[s][n], key) for n in ns]
            ax.errorbar(ns, [x[0] for x in ms], yerr=[[x[0] - x[1] for x in ms], [x[2] - x[0] for x in ms]],
                        capsize=3, label=LABEL[s], **STYLE[s])
        ax.set_xlabel("SR-MPLS labels per packet (sent; the proxy restores all but the consumed one)")
        ax.set_ylabel(ylab)
        ax.set_ylim(bottom=0)
        ax.set_xticks(xs)
        ax.grid(True, alpha=0.3)
        ax.set_title(ttl, fontsize=9)
        ax.legend(fontsize=8, loc="lower left")
    r0 = rows[0] if rows else {}
    fig.suptitle(f"lab-bench-tcp {r0.get('run_id', '?')} {utc} UTC, {vnf} VNF, kernel {a.kernel}, {a.cpus} CPUs; "
                 f"one iperf3 TCP stream ({cc}), gso_max_segs {gso} at the sender", fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, a.base + ".png"), dpi=110)

    L = [f"# Lab: TCP throughput against the number of SR-MPLS labels ({vnf} VNF)\n",
         f"Command: `{a.command}`  ",
         f"Run: {utc} UTC, kernel {a.kernel}, {a.cpus} CPUs, {len(rows)} points in {a.seconds} s, "
         f"receiver decap: {decap}, TCP congestion control: {cc}, sender gso_max_segs {gso}.  ",
         f"veth offloads: {a.offloads.strip()}\n",
         *[f"- {w}" for w in WHY],
         "",
         "Sender (iperf3 client, CPU 0; vm-lab/lab/tcp_encap.bpf.c at tc egress pushes the labels or the NSH "
         "header on every IPv4 packet) -> proxy host (SfcProxy or the floor's empty programs; "
         f"{VNF_TEXT.get(vnf, vnf)}) -> receiver (vm-lab/lab/tcp_decap.bpf.c, XDP, counts "
         "and strips what the proxy restored; iperf3 server, CPU 1). ACKs return plain through the proxy's "
         "forwarding, past no SfcProxy program. The floor: same topology and sender settings, the encap "
         "program attached but pushing nothing, empty programs where SfcProxy's sit. One TCP stream per run.\n",
         f"![TCP Gbit/s vs labels]({a.base}.png)\n",
         "| system | labels | median Gbit/s | min..max | runs | % of floor | vs 1 label | retransmits (median) "
         "| sender CPU % | CPU ns/segment (min..max) | floor cost / cost | arrived with the expected stack |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in systems:
        ns = [0] if s == "floor" else [n for n in labels + nshs if n in data[s]]
        base = agg(data[s][ns[0]])[0] if ns else float("nan")
        for n in ns:
            m, lo, hi, k = agg(data[s][n])
            pf = f"{100 * m / floor[0]:.0f} %" if floor and floor[0] and s != "floor" else ""
            v1 = f"{m / base:.2f}x" if s != "floor" and isinstance(n, int) and base else ""
            retr = statistics.median(float(r["retransmits"]) for r in data[s][n])
            scpu = statistics.median(float(r["snd_cpu_pct"]) for r in data[s][n])
            ok = min(float(r["ok_share"]) for r in data[s][n])
            cc_ = cf = ""
            if cpu:
                cm, clo, chi, _ = agg(data[s][n], "cpu_ns_per_seg")
                cc_ = f"{cm:,.0f} ({clo:,.0f}..{chi:,.0f})"
                if floor and s != "floor" and cm:
                    cf = f"{100 * agg(data['floor'][0], 'cpu_ns_per_seg')[0] / cm:.0f} %"
            nn = "0 (plain)" if s == "floor" else (n if isinstance(n, int) else nsh_name(n))
            L.append(f"| {s} | {nn} | {m:.3f} | {lo:.3f}..{hi:.3f} | {k} | {pf} | {v1} | {retr:.0f} | "
                     f"{scpu:.0f} | {cc_} | {cf} | {100 * ok:.1f} % |")
    L.append("\n'arrived with the expected stack': the smallest share, over the runs, of frames at the receiver "
             "(data, and iperf3's control connection) carrying labels - 1 entries (plain IPv4 for 1 label, "
             "ConsumedSegments 1) or, for NSH rows, an NSH header; anything else means the proxy did not "
             "restore the stack. Retransmits and sender CPU % are iperf3's own figures. CPU ns/segment: CPU time of "
             "the iperf3 client and server (iperf3's figures; tick-based accounting charges the softirq work "
             "that runs in their context to them, and the client's write runs the whole chain up to the "
             "server's socket) over the segments sent; ksoftirqd is left out (on a shared machine it mostly "
             "runs other work's packets)"
             + ("; with the user-mode VNF it adds the VNF process's CPU time (its TUN writes run the rest "
                "of the chain, up to the receiver, in its context)" if vnf == "tun" else "") +
             ". It does not fall when other work takes the CPUs away, which "
             "Gbit/s does. "
             "'floor cost / cost' is the throughput SfcProxy would reach as a share of the floor's on "
             "otherwise idle CPUs.")
    write_markdown(a, rows, L)


if __name__ == "__main__":
    main()
