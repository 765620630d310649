#!/usr/bin/env python3
"""Where a bench row's time goes, line by line: reads `perf script -F ip,sym,symoff` of a
cpu-clock recording with call chains and the prog_lines dumps of the programs, and prints per BPF
function its share in ns per packet, its hottest source lines, and the kernel helpers it calls.

    prog_profile.py PERF_SCRIPT_TXT LINES_DIR FREQ_HZ PACKETS [PROGRAM ...]

A sample lands on the instruction a stall ends at, so a line's ns are mostly the memory it
waits for (a cold cache line or page), not its own work: read the lines as "where it waits"."""
import bisect, collections, re, sys, os

txt, lines_dir, freq, packets = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
roots = sys.argv[5:] or ["xdp_rx", "tc_tx"]
ns_per_sample = 1e9 / freq / packets

lines = {}
for name in os.listdir(lines_dir):
    for row in open(os.path.join(lines_dir, name)):
        f, off, loc, *src = row.rstrip("\n").split(" ", 3)
        lines.setdefault(f, []).append((int(off, 16), loc, (src[0] if src else "").strip()))
for f in lines:
    lines[f].sort()
offsets = {f: [x[0] for x in v] for f, v in lines.items()}

frame_re = re.compile(r"bpf_prog_[0-9a-f]+_(\w+)\+0x([0-9a-f]+)")
stacks, cur = [], []
for row in open(txt):
    row = row.strip()
    if not row:
        if cur:
            stacks.append(cur)
        cur = []
        continue
    parts = row.split(None, 1)
    cur.append(parts[1] if len(parts) > 1 else parts[0])
if cur:
    stacks.append(cur)

def bpf_frames(stack):
    for fr in stack:
        m = frame_re.match(fr)
        if m:
            yield m.group(1), int(m.group(2), 16)

per_root = collections.Counter()
per_func = collections.Counter()
per_line = collections.Counter()
helpers = collections.Counter()
for st in stacks:
    frames = list(bpf_frames(st))
    if not frames:
        continue
    root = next((f for f, _ in reversed(frames) if f in roots), None)
    if root is None:
        continue
    per_root[root] += 1
    leaf_func, leaf_off = frames[0]
    if frame_re.match(st[0]):
        per_func[leaf_func] += 1
        L = lines.get(leaf_func)
        if L:
            i = bisect.bisect_right(offsets[leaf_func], leaf_off) - 1
            per_line[(leaf_func, L[i][1], L[i][2][:100])] += 1
    else:
        helper = re.sub(r"\+0x[0-9a-f]+$", "", st[0])
        per_func[leaf_func + " -> helpers"] += 1
        helpers[(leaf_func, helper)] += 1

print(f"ns per packet (cpu-clock samples x {1e9 / freq:.0f} ns / {packets} packets; perf's own interrupts are in them, so compare shares)\n")
print("| program | ns/packet |\n|---|---:|")
for r, n in per_root.most_common():
    print(f"| {r} (all it calls) | {n * ns_per_sample:.0f} |")
print("\n| function | ns/packet |\n|---|---:|")
for f, n in per_func.most_common():
    print(f"| {f} | {n * ns_per_sample:.0f} |")
print("\n| function | line | ns/packet | source |\n|---|---|---:|---|")
for (f, loc, src), n in per_line.most_common(40):
    print(f"| {f} | {loc} | {n * ns_per_sample:.1f} | `{src}` |")
print("\n| called from | helper / kernel function | ns/packet |\n|---|---|---:|")
for (f, h), n in helpers.most_common(25):
    print(f"| {f} | {h} | {n * ns_per_sample:.1f} |")
