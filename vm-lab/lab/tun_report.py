#!/usr/bin/python3
"""lab-pps-tun.csv (vm-lab/lab.sh bench --vnf tun) -> lab-pps-tun.png (delivered vs offered packet
rate, one line per system and label count) + lab-pps-tun.md (the table and the no-loss rates)."""
import csv
import os
import statistics

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from report_common import run_arguments, write_markdown  # noqa: E402

LOSS_OK = 0.001  # RFC 2544 asks for zero loss; 0.1 % tolerates a stray drop in millions
NAME = {"floor": "floor: plain UDP, empty XDP + empty tc programs", "header-hash": "SfcProxy, header-hash key"}
COLOR = {"floor": "0.4", "header-hash": "tab:orange"}


def main():
    a = run_arguments("lab-pps-tun", "vm-lab/lab.sh bench --vnf tun")
    with open(a.csv) as f:
        rows = list(csv.DictReader(f))
    lines = {}  # (system, labels) -> rate -> rows
    for r in rows:
        lines.setdefault((r["system"], int(r["labels"])), {}).setdefault(int(r["rate"]), []).append(r)
    order = sorted(lines, key=lambda k: (k[0] != "floor", k[0], k[1]))
    utc = rows[0]["utc"][:16].replace("T", " ") if rows else "?"

    def med(rs, k):
        return statistics.median(float(r[k]) for r in rs)

    fig, ax = plt.subplots(figsize=(8, 5.5))
    top = max((float(r["offered_pps"]) for r in rows), default=1)
    ax.plot([0, top / 1e3], [0, top / 1e3], color="0.8", lw=1, label="delivered = offered")
    markers = ["o", "s", "^", "D", "v"]
    for i, key in enumerate(order):
        s, n = key
        rates = sorted(lines[key])
        xs = [med(lines[key][x], "offered_pps") / 1e3 for x in rates]
        ys = [med(lines[key][x], "delivered_pps") / 1e3 for x in rates]
        lo = [min(float(r["delivered_pps"]) for r in lines[key][x]) / 1e3 for x in rates]
        hi = [max(float(r["delivered_pps"]) for r in lines[key][x]) / 1e3 for x in rates]
        lab = NAME.get(s, s) + ("" if s == "floor" else f", {n} label{'s' if n > 1 else ''}")
        ax.errorbar(xs, ys, yerr=[[y - l for y, l in zip(ys, lo)], [h - y for y, h in zip(ys, hi)]], capsize=3,
                    color=COLOR.get(s, None), ls="--" if s == "floor" else "-",
                    marker=markers[i % len(markers)], alpha=1 if n in (0, 1) else 0.7, label=lab)
    ax.set_xlabel("offered packets/s, thousands (paced sender)")
    ax.set_ylabel("delivered packets/s at the receiver, thousands (median, bars min..max)")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"lab-bench {rows[0]['run_id'] if rows else '?'} {utc} UTC, user-mode TUN VNF (tun_vnf.py), "
                 f"kernel {a.kernel}, {a.cpus} CPUs", fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, a.base + ".png"), dpi=110)

    L = ["# Lab: offered against delivered packet rate through a user-mode VNF (TUN)\n",
         f"Command: `{a.command}`  ",
         f"Run: {utc} UTC, kernel {a.kernel}, {a.cpus} CPUs, {len(rows)} points in {a.seconds} s.  ",
         f"veth offloads: {a.offloads.strip()}\n",
         "Sender -> proxy host -> receiver as in `lab-pps.md`, but the VNF is tests/e2e/tun_vnf.py (Python, on "
         "CPU 1): policy routing sends what arrives on the proxy ingress into a TUN device, the VNF reads every "
         "packet and writes it back, the kernel routes it out of the egress. The sender (CPU 0) is paced: "
         "a token bucket in the generator's XDP program (time lost to preemption made up for in bursts of at "
         "most 1024 frames); the TUN queue holds 2048 packets. Loss = 1 - frames at the receiver / frames sent, over the whole "
         "run; delivered = the receiver's rate in the measuring window. SfcProxy: header-hash key (the "
         "metadata key cannot cross user space), Cache:Size 262144, Cache:MaxAge 0.5 s (sized for the VNF's "
         "drops above its capacity). The floor sends plain UDP through the same VNF with empty programs where "
         "SfcProxy's sit.\n",
         f"![delivered vs offered]({a.base}.png)\n",
         f"**No-loss rate**: the highest rung with < {100 * LOSS_OK:g} % loss in every repeat, as the rate the "
         "sender reached there (median; the nominal rung in brackets). Ladder rungs: the true value lies between "
         "it and the next rung.\n",
         "| system | labels | no-loss rate, sent pps (rung) | delivered there (median) | highest delivered (median, any rung) |",
         "|---|---:|---:|---:|---:|"]
    for key in order:
        s, n = key
        ok = [x for x in sorted(lines[key]) if max(float(r["loss"]) for r in lines[key][x]) < LOSS_OK]
        best = max(med(lines[key][x], "delivered_pps") for x in lines[key])
        nl = f"{med(lines[key][ok[-1]], 'offered_pps'):,.0f} ({ok[-1]:,})" if ok else f"< lowest rung ({min(lines[key]):,})"
        if ok and ok[-1] == max(lines[key]):
            nl += ", the top rung: no loss seen"
        dl = f"{med(lines[key][ok[-1]], 'delivered_pps'):,.0f}" if ok else ""
        L.append(f"| {s} | {n if s != 'floor' else '0 (plain)'} | {nl} | {dl} | {best:,.0f} |")
    L += ["", "| system | labels | offered rate | sent pps (median) | delivered pps (median, min..max) | loss (median, max) | runs | arrived with the expected stack |",
          "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for key in order:
        s, n = key
        for x in sorted(lines[key]):
            rs = lines[key][x]
            d = [float(r["delivered_pps"]) for r in rs]
            lo = [float(r["loss"]) for r in rs]
            ok = min(float(r["ok_share"]) for r in rs)
            L.append(f"| {s} | {n if s != 'floor' else '0 (plain)'} | {x:,} | {med(rs, 'offered_pps'):,.0f} | "
                     f"{statistics.median(d):,.0f} ({min(d):,.0f}..{max(d):,.0f}) | "
                     f"{100 * statistics.median(lo):.3f} % ({100 * max(lo):.3f} %) | {len(rs)} | {100 * ok:.1f} % |")
    L.append("\n'arrived with the expected stack': the smallest share, over the runs, of frames at the receiver "
             "carrying labels - 1 entries (plain IPv4 for 1 label, ConsumedSegments 1); anything else means the "
             "proxy did not restore the stack.")
    short = [r for r in rows if float(r["offered_pps"]) < 0.9 * int(r["rate"])]
    if short:
        L.append(f"\n**The sender fell short of the nominal rate** in {len(short)} of {len(rows)} runs (below 90 %): "
                 "it runs on CPU 0 and sends only while it has the CPU (the token bucket holds 1024 frames), so "
                 "other work on that CPU lowers the offered rate. The plot and the tables use the rate actually sent.")
    write_markdown(a, rows, L, "the VNF shares CPU 1 with that work, so rates are noisy and low.")


if __name__ == "__main__":
    main()
