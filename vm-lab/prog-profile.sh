#!/usr/bin/env bash
# Where one `sfcproxy bench` row's time goes, source line by source line: runs the row alone
# (`sfcproxy bench --only ROW`) under `perf record` (cpu-clock, call chains, all CPUs), loads the
# same BPF objects to read where each source line sits in the JIT image (prog_lines), and prints
# ns per packet per program, function, hottest line and kernel helper (profile/prog_profile.py).
#
#   vm-lab/prog-profile.sh "metadata mpls 4" [--packets 100000] [--freq 20000]
#
# The numbers are per packet of the row and include the other programs of the bench only where
# the table says so; compare rows and builds of one run, as with the bench. Needs root, perf,
# clang, libbpf-dev and the .NET SDK. Pins live under a per-run bpffs directory removed on exit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 ROW [--packets N] [--freq HZ]" >&2; exit 2; }
row="$1"; shift
packets=100000 freq=20000
while [ $# -gt 0 ]; do
	case "$1" in
	--packets) packets="$2"; shift 2 ;;
	--freq) freq="$2"; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
command -v perf >/dev/null || { echo "perf is missing (apt install linux-perf)" >&2; exit 1; }
work=$(mktemp -d)
pins="/sys/fs/bpf/sfcproxy-profile-$$"
cleanup() { rm -rf "$pins" "$work"; }
trap cleanup EXIT
make -s -C "$repo/bpf" >/dev/null
(cd "$repo" && dotnet build SfcProxy/SfcProxy.csproj -v q >/dev/null)
clang -O1 -o "$work/prog_lines" "$here/profile/prog_lines.c" -lbpf
mkdir -p "$work/lines"
for obj in xdp_rx tc_tx; do
	mkdir -p "$pins/$obj"
	"$work/prog_lines" "$repo/bpf/build/$obj.bpf.o" "$obj" "$pins/$obj" > "$work/lines/$obj"
done
perf record -q -g -e cpu-clock -F "$freq" -a -o "$work/perf.data" -- \
	dotnet "$repo/SfcProxy/bin/Debug/net10.0/sfcproxy.dll" bench --only "$row" --packets "$packets" \
	--output "$work/bench.md" >/dev/null 2>&1
perf script -i "$work/perf.data" -F ip,sym,symoff 2>/dev/null > "$work/perf.txt"
echo "Command: \`vm-lab/prog-profile.sh \"$row\" --packets $packets --freq $freq\` ($(date -u '+%Y-%m-%d %H:%M') UTC, $(git -C "$repo" rev-parse --short HEAD))"
echo
echo "The row as measured under perf (its sampling interrupts slow the runs they land in: read shares below, not ns):"
echo
grep -E "^\| (key mode \| headers|---\|---\|---:|metadata \||header-hash \|)" "$work/bench.md" | head -3
echo
python3 "$here/profile/prog_profile.py" "$work/perf.txt" "$work/lines" "$freq" "$packets"
