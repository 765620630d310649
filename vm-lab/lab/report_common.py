"""What the lab's report scripts (vm-lab/lab_report.py, vm-lab/lab/tcp_report.py, tun_report.py)
share: the run's command-line arguments, reading the bench CSV by system and point, the NSH point
names, and the markdown's closing note and file."""
import argparse
import csv
import os

TLV_MAX = 124      # trafgen.c: MD2 metadata in TLVs of at most 124 value bytes

# Each system's line in every lab plot, so a system looks the same in all of them.
STYLE = {
    "floor": dict(color="0.4", ls="--", marker=None),
    "static": dict(color="tab:purple", ls=":", marker="v", lw=2),
    "ovs": dict(color="tab:green", ls="-", marker="^", lw=2),
    "metadata": dict(color="tab:blue", ls="-", marker="o", lw=2),
    "header-hash": dict(color="tab:orange", ls="-", marker="s", lw=2),
    "kernel-srv6": dict(color="tab:red", ls="-", marker="D", lw=2),
}


def run_arguments(base, command):
    """The arguments every bench passes its report: the CSV, where to write, and what to say about the run."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--command", default=command)
    ap.add_argument("--seconds", default="?")
    ap.add_argument("--kernel", default="?")
    ap.add_argument("--cpus", default="?")
    ap.add_argument("--offloads", default="?")
    ap.add_argument("--base", default=base, help="output file name without extension")
    return ap.parse_args()


def load(path):
    """(rows, {system: {point: [rows]}}), a point being the label count (MPLS) or the NSH name."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    data = {}
    for r in rows:
        enc = r.get("encap") or "mpls"
        key = int(r["labels"]) if enc == "mpls" else enc
        data.setdefault(r["system"], {}).setdefault(key, []).append(r)
    return rows, data


def nsh_bytes(e):
    """NSH header bytes of a bench point: nsh1 (MD1, 24), nsh2 (MD2 without TLV, 8), nsh2-V (MD2,
    V value bytes in TLVs of at most TLV_MAX, each with a 4-byte TLV header, padded to 4)."""
    if e == "nsh1":
        return 24
    v, n = (int(e.split("-")[1]) if "-" in e else -1), 8
    while v >= 0:
        n += 4 + (min(v, TLV_MAX) + 3) // 4 * 4
        v = v - TLV_MAX if v > TLV_MAX else -1
    return n


def nsh_name(e):
    return f"NSH MD{1 if e == 'nsh1' else 2} ({nsh_bytes(e)} B)"


def static_lines(data, floor, points, agg):
    """The static proxy (vm-lab/lab/static.sh) as the job's limit: its share of the floor and
    SfcProxy's share of it, by rate and by cost, over the points both measured (agg: the report's
    (median, min, max, runs, ok) of a point's rows by a column)."""
    st = data.get("static")
    if not st or not floor:
        return []
    pts = [n for n in points if n in st]
    f_cost = agg(data["floor"][0], "cpu_ns_per_pkt")[0]
    def span(v):
        return f"{100 * min(v):.0f}..{100 * max(v):.0f} %"
    L = [f"\n**static** (vm-lab/lab/static.sh): bpf/bench/static_pop.bpf.c (native XDP, pops the labels, "
         "the NSH header or the outer IPv6 + SRH, no cache) and static_push.bpf.c (tc egress, pushes one "
         "fixed header, the one SfcProxy restores at that point) where SfcProxy's programs sit, the same "
         "kernel VNF between them: the least a proxy of this hook design does, the job's limit in the lab. "
         "It reaches "
         f"{span([agg(st[n])[0] / floor[0] for n in pts])} of the floor's rate "
         f"({span([f_cost / agg(st[n], 'cpu_ns_per_pkt')[0] for n in pts])} by cost, floor cost / cost)."]
    for s in ("metadata", "header-hash"):
        both = [n for n in pts if n in data.get(s, {})]
        if both:
            L.append(f"- {s}: {span([agg(data[s][n])[0] / agg(st[n])[0] for n in both])} of static's rate, "
                     f"{span([agg(st[n], 'cpu_ns_per_pkt')[0] / agg(data[s][n], 'cpu_ns_per_pkt')[0] for n in both])} "
                     "by cost (static's cost / its cost), same points.")
    return L


def write_markdown(a, rows, lines, busy_consequence="points are noisy."):
    """Writes OUT/BASE.md: the lines, then a warning when the 1-min load average went above 1.5
    during the run (the CSV's load1 column)."""
    loads = [float(r["load1"]) for r in rows if r.get("load1")]
    if loads and max(loads) > 1.5:
        lines.append(f"\n**This machine was busy during the run** (1-min load average up to {max(loads):.1f}): "
                     + busy_consequence)
    with open(os.path.join(a.out, a.base + ".md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {a.out}/{a.base}.csv, {a.base}.png, {a.base}.md")
