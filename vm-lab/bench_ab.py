"""Summarises vm-lab/bench-ab.sh's runs: per row, round trip over the static proxy (mean/mean,
median/median) before and after, one column pair per round, and after/before of the medians; then
the paths without cache work (ns, and over the same run's xdp_rx path without an SFC header)."""
import re
import sys

work, rounds = sys.argv[1], int(sys.argv[2])


def rows(path):
    """{(mode, headers): (mean ratio, median ratio)} of one `sfcproxy bench --output` table."""
    found = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) in (12, 14) and cells[0] in ('metadata', 'header-hash'):  # 14: with the slot columns
            found[(cells[0], cells[1])] = (float(cells[7].rstrip('x')), float(cells[8].rstrip('x')))
    return found


runs = {side: [rows(f"{work}/{side}-{r}.md") for r in range(1, rounds + 1)] for side in ('before', 'after')}
keys = list(runs['after'][0].keys())
head = "| key mode | headers | " + " | ".join(
    f"before r{r} mean, median | after r{r} mean, median" for r in range(1, rounds + 1)) + " | after / before (medians) |"
print("Round trip over the static proxy of the same bench run (mean over mean, median over median):\n")
print(head)
print("|---|---|" + "---:|" * (2 * rounds + 1))
for k in keys:
    cells, change = [], []
    for r in range(rounds):
        b, a = runs['before'][r].get(k), runs['after'][r].get(k)
        cells.append(f"{b[0]:.2f}x, {b[1]:.2f}x" if b else "")
        cells.append(f"{a[0]:.2f}x, {a[1]:.2f}x" if a else "")
        if a and b:
            change.append(a[1] / b[1])
    mean_change = sum(change) / len(change) if change else float('nan')
    print(f"| {k[0]} | {k[1]} | " + " | ".join(cells) + f" | {mean_change:.2f} |")


def stages(path):
    """{(mode, path): median ns} of one run's table of paths without cache work."""
    found = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) == 3 and cells[0] in ('metadata', 'header-hash') and cells[2].isdigit():
            found[(cells[0], cells[1])] = float(cells[2])
    return found


paths = {side: [stages(f"{work}/{side}-{r}.md") for r in range(1, rounds + 1)] for side in ('before', 'after')}
pkeys = [k for k in paths['after'][0] if all(k in p for s in paths.values() for p in s)]
if pkeys:
    print("\nPaths without cache work, median ns (and over the same run's xdp_rx path without an SFC header):\n")
    print("| key mode | path | " + " | ".join(f"before r{r} | after r{r}" for r in range(1, rounds + 1)) + " | after / before (ratios) |")
    print("|---|---|" + "---:|" * (2 * rounds + 1))
    for k in pkeys:
        cells, change = [], []
        for r in range(rounds):
            base = [paths[s][r].get((k[0], "xdp_rx, no SFC header (parse Ethernet, count)")) for s in ('before', 'after')]
            b, a = paths['before'][r][k], paths['after'][r][k]
            cells += [f"{b:.0f} ({b / base[0]:.2f}x)", f"{a:.0f} ({a / base[1]:.2f}x)"]
            change.append((a / base[1]) / (b / base[0]))
        print(f"| {k[0]} | {k[1]} | " + " | ".join(cells) + f" | {sum(change) / len(change):.2f} |")
