#!/usr/bin/python3
"""lab-dsr.csv (vm-lab/lab.sh bench-dsr) -> lab-dsr.md: median and spread per system."""
import argparse
import csv
import statistics

LABEL = {
    "kernel-fwd": "floor: kernel IP forwarding (empty XDP on the LB ingress)",
    "xdp-fwd": "floor: XDP MAC rewrite + redirect",
    "dsr": "dsr_lb (sfcproxy run): IP-in-IP to 2 backends",
    "dsr-nocache": "dsr_lb, bpf_fib_lookup per packet (NextHopMaxAgeMs 0)",
}


def main():
    ap = argparse.ArgumentParser()
    for a in ("--csv", "--out", "--command", "--seconds", "--kernel", "--cpus"):
        ap.add_argument(a, required=True)
    a = ap.parse_args()
    with open(a.csv) as f:
        rows = list(csv.DictReader(f))
    by = {}
    for r in rows:
        by.setdefault(r["system"], []).append(r)

    def med(rs, k):
        v = [float(r[k]) for r in rs]
        return statistics.median(v), min(v), max(v)

    floor = {s: med(by[s], "rx_pps")[0] for s in ("kernel-fwd", "xdp-fwd") if s in by}
    floor_cpu = {s: med(by[s], "cpu_ns_per_pkt")[0] for s in ("kernel-fwd", "xdp-fwd") if s in by}
    flows = rows[0]["flows"] if rows else "?"
    out = [
        "# Lab: packet rate through the DSR load balancer",
        "",
        f"Command: `{a.command}`  ",
        f"Run: {rows[0]['utc'][:16].replace('T', ' ') if rows else '?'} UTC, kernel {a.kernel}, {a.cpus} CPUs, "
        f"{len(rows)} points in {a.seconds} s.",
        "",
        "Client -> LB -> backend, three namespaces joined by veth pairs (tests/e2e/topology.sh), native XDP on the LB's "
        "ingress veth. Traffic: Ethernet + IPv4 + UDP to the VIP 198.18.60.10:5001 + 64-byte payload from "
        f"vm-lab/lab/trafgen (XDP live frames, vm-lab/lab/dsr_lab.bpf.c), {flows} distinct flows (UDP source ports) "
        "in turn. Rate = frames counted by a tc program on the backend's veth after a warm-up; the generator and the "
        "whole path run in softirq on CPU 0, so the rate is the whole chain's on one core. "
        "CPU ns/packet: the sender process's CPU time plus ksoftirqd/0's over the packets sent (tick-sampled); it "
        "does not fall when other work takes CPU 0 away, so 'floor cost / cost' is the better ratio on a busy machine. "
        "The backend's veth has an empty XDP program (native redirect into a veth needs one) and does not decapsulate. "
        "Setup and reading: vm-lab/lab/README-dsr.md.",
        "",
        "| system | median pps | min..max | runs | % of xdp-fwd | % of kernel-fwd | CPU ns/packet (min..max) "
        "| CPU ns over xdp-fwd | xdp-fwd cost / cost | arrived as expected |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in [k for k in LABEL if k in by]:
        rs = by[s]
        m, lo, hi = med(rs, "rx_pps")
        c, clo, chi = med(rs, "cpu_ns_per_pkt")
        ok = min(float(r["ok_share"]) for r in rs)
        pct = lambda f: f"{100 * m / floor[f]:.0f} %" if f in floor and f != s else ""
        over = f"{c - floor_cpu['xdp-fwd']:+,.0f}" if "xdp-fwd" in floor_cpu and s != "xdp-fwd" else ""
        ratio = f"{floor_cpu['xdp-fwd'] / c:.0%}" if "xdp-fwd" in floor_cpu and s != "xdp-fwd" else ""
        out.append(f"| {LABEL[s]} | {m:,.0f} | {lo:,.0f}..{hi:,.0f} | {len(rs)} | {pct('xdp-fwd')} | {pct('kernel-fwd')} "
                   f"| {c:,.0f} ({clo:,.0f}..{chi:,.0f}) | {over} | {ratio} | {100 * ok:.1f} % |")
    out += [
        "",
        "'arrived as expected': the smallest share, over the runs, of frames at the backend that were plain IPv4 to the "
        "VIP (floors) or IP-in-IP whose inner packet goes to the VIP (dsr); the rest is anything else.",
    ]
    for s in ("dsr", "dsr-nocache"):
        if s in by:
            out += ["", f"dsr_lb counters of the last {s} run (since its start, warm-up included): "
                    f"`{by[s][-1]['lb_counters'] or 'none'}`"]
    with open(a.out, "w") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
