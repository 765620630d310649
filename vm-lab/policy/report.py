#!/usr/bin/python3
"""policy-scaling.csv -> policy-scaling.png (throughput and latency vs rules) + policy-scaling.md."""
import argparse
import csv
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABEL = {
    "none": "no filtering",
    "tc-bpf-noop": "empty tc BPF program (floor of any tc program)",
    "iptables-end": "iptables, allow rule at the end (every packet walks N rules)",
    "iptables-top": "iptables, allow rule at the top",
    "iptables-ct": "iptables, conntrack ESTABLISHED first, allow at the end",
    "sfcproxy": "SfcProxy identity policy (tc ingress)",
}
STYLE = {
    "none": dict(color="0.55", ls=":", marker="."),
    "tc-bpf-noop": dict(color="tab:green", ls="--", marker="x"),
    "iptables-end": dict(color="tab:orange", ls="-", marker="o"),
    "iptables-top": dict(color="tab:gray", ls="-", marker="s"),
    "iptables-ct": dict(color="tab:purple", ls="-.", marker="^"),
    "sfcproxy": dict(color="tab:blue", ls="-", marker="D", lw=2),
}
ORDER = list(LABEL)


def load(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    data = {}
    for r in rows:
        data.setdefault(r["system"], {})[int(r["rules"])] = r
    return rows, data


def fnum(x):
    return float(x) if x not in ("", None) else float("nan")


def plot(data, out, title):
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 5))
    for s in [s for s in ORDER if s in data]:
        ns = sorted(data[s])
        a1.plot(ns, [fnum(data[s][n]["tput_gbps"]) for n in ns], label=LABEL[s], **STYLE[s])
        a2.plot(ns, [fnum(data[s][n]["rr_p50_us"]) for n in ns], label=LABEL[s] + " p50", **STYLE[s])
        st = dict(STYLE[s]); st.update(ls=(0, (1, 3)), marker=None, lw=1)
        a2.plot(ns, [fnum(data[s][n]["rr_p99_us"]) for n in ns], alpha=0.6, **st)
    for a in (a1, a2):
        a.set_xscale("symlog", linthresh=10)
        a.set_xlabel("rules (non-matching, + 1 allow rule); 0..10 linear, log above")
        a.grid(True, which="both", alpha=0.3)
    a1.set_ylabel("TCP throughput, Gbit/s (iperf3, 1 stream, median)")
    a1.set_ylim(bottom=0)
    a1.set_title("Throughput vs rules")
    a2.set_ylabel("request/response round trip, µs (100 B / 200 B)")
    a2.set_yscale("log")
    a2.set_title("Latency vs rules (solid p50, dotted p99)")
    a1.legend(fontsize=7, loc="lower left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "policy-scaling.png"), dpi=110)


def crossover(ipt, ref, key, worse):
    """Smallest rule count from which iptables stays worse than the reference (by the margin in worse)."""
    ns = sorted(set(ipt) & set(ref))
    for i, n in enumerate(ns):
        if all(worse(fnum(ipt[m][key]), fnum(ref[m][key])) for m in ns[i:]):
            return n
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default="vm-lab/policy-bench.sh")
    ap.add_argument("--seconds", default="?")
    ap.add_argument("--kernel", default="?")
    ap.add_argument("--cpus", default="?")
    ap.add_argument("--iptables", default="?")
    ap.add_argument("--offloads", default="?")
    a = ap.parse_args()
    rows, data = load(a.csv)
    systems = [s for s in ORDER if s in data]
    counts = sorted({int(r["rules"]) for r in rows})
    utc = rows[0]["utc"][:16].replace("T", " ") if rows else "?"
    ref = "sfcproxy" if "sfcproxy" in data else "tc-bpf-noop" if "tc-bpf-noop" in data else None
    r0 = rows[0] if rows else {}
    title = (f"policy-bench {r0.get('run_id', '?')} {utc} UTC, kernel {a.kernel}, {a.cpus} CPUs, "
             f"{a.iptables}, veth offloads {r0.get('offloads', '?')}")
    plot(data, a.out, title)

    L = []
    L.append("# Policy scaling: iptables vs SfcProxy identity policy\n")
    L.append(f"Command: `{a.command}`  ")
    L.append(f"Run: {utc} UTC, kernel {a.kernel}, {a.cpus} CPUs, {a.iptables}, "
             f"veth offloads: {a.offloads.strip()}, {len(rows)} points in {a.seconds} s.  ")
    rr = r0.get("rr_count", "?")
    L.append(f"Throughput: iperf3, one TCP stream client -> server, median of `tput_runs` runs. "
             f"Latency: {rr} round trips of a 100 B request / 200 B response over one TCP connection "
             f"(vm-lab/policy/rr.c, netperf TCP_RR style). Rules are in the server namespace's "
             f"INPUT chain (iptables) or on its veth's tc ingress (BPF).\n")
    if ref != "sfcproxy":
        L.append("**The SfcProxy policy datapath was not measured in this run**: the reference column "
                 "below is the empty tc BPF program (a stand-in: the lowest cost any tc program can have), "
                 "not SfcProxy.\n")
    L.append("![policy scaling](policy-scaling.png)\n")
    L.append("Throughput, Gbit/s (median; min..max in the CSV):\n")
    L.append("| rules | " + " | ".join(systems) + " |")
    L.append("|---:|" + "---:|" * len(systems))
    for n in counts:
        L.append(f"| {n} | " + " | ".join(
            f"{fnum(data[s][n]['tput_gbps']):.2f}" if n in data[s] else "" for s in systems) + " |")
    L.append("\nRequest/response round trip, µs, p50 / p99:\n")
    L.append("| rules | " + " | ".join(systems) + " |")
    L.append("|---:|" + "---:|" * len(systems))
    for n in counts:
        L.append(f"| {n} | " + " | ".join(
            f"{fnum(data[s][n]['rr_p50_us']):.1f} / {fnum(data[s][n]['rr_p99_us']):.1f}" if n in data[s] else ""
            for s in systems) + " |")
    if ref:
        refname = "SfcProxy" if ref == "sfcproxy" else "the empty tc program (stand-in for SfcProxy)"
        L.append(f"\nAgainst {refname}:\n")
        L.append("| iptables variant | throughput crossover (iptables >10 % slower from N rules on) | "
                 "latency crossover (p50 >5 % higher from N on) | throughput iptables/ref @1,000 | @10,000 | "
                 "p50 iptables/ref @1,000 | @10,000 |")
        L.append("|---|---:|---:|---:|---:|---:|---:|")
        for s in ("iptables-end", "iptables-top", "iptables-ct"):
            if s not in data:
                continue
            ct = crossover(data[s], data[ref], "tput_gbps", lambda x, y: x < 0.9 * y)
            cl = crossover(data[s], data[ref], "rr_p50_us", lambda x, y: x > 1.05 * y)
            cells = []
            for key in ("tput_gbps", "rr_p50_us"):
                for n in (1000, 10000):
                    if n in data[s] and n in data[ref]:
                        cells.append(f"{fnum(data[s][n][key]) / fnum(data[ref][n][key]):.2f}")
                    else:
                        cells.append("n/a")
            L.append(f"| {s} | {ct if ct is not None else 'none'} | {cl if cl is not None else 'none'} | "
                     + " | ".join(cells) + " |")
        L.append("\nA crossover of 0 means iptables was already behind at 0 rules (the cost of the hook "
                 "itself); 'none' means it never stayed behind. Differences of a few percent are within "
                 "run-to-run noise (see min..max in the CSV).")
    loads = [fnum(r.get("load1")) for r in rows if r.get("load1")]
    if loads and max(loads) > 1.5:
        L.append(f"\n**This machine was busy during the run** (1-min load average up to {max(loads):.1f}; the "
                 "bench itself accounts for about 1-1.5): throughput points are noisy, latency much less.\n")
    L.append("\nChecks per point (CSV): `other_port` is a connection attempt to tcp/5203, which no rule "
             "allows: `dropped` means the filter was enforcing, `refused` means nothing filtered (none, "
             "empty program). `allow_rule_pkts` is the iptables packet counter of the allow rule.\n")
    bad = [f"{r['system']}@{r['rules']}" for r in rows
           if r["system"] in ("iptables-end", "iptables-top", "iptables-ct", "sfcproxy") and r["other_port"] != "dropped"]
    L.append("All filtering points dropped the unallowed port." if not bad else
             "**Not enforcing at: " + ", ".join(bad) + "**")
    with open(os.path.join(a.out, "policy-scaling.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print(f"wrote {a.out}/policy-scaling.csv, policy-scaling.png, policy-scaling.md")


if __name__ == "__main__":
    main()
