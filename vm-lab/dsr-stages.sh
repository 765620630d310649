#!/usr/bin/env bash
# Where dsr_lb's time goes: `sfcproxy bench --dsr-only` against variants of bpf/dsr/dsr_lb.bpf.c
# built with -DDSR_BENCH_STAGE=n, each stopping (XDP_TX, packet as it is) after one more stage,
# beside the full program and the empty XDP program, in one run. The stages use the static next
# hop; the last rows run the full program with bpf_fib_lookup (`--dsr-fib`) inside a network
# namespace of its own that routes the bench's backends over a veth with permanent neighbours:
# `fib` with the next-hop cache (the default, 1 s), `fib-nocache` with a lookup per packet.
#
#   vm-lab/dsr-stages.sh [--packets N] [--repeats R] [--out FILE]
#
# Each variant runs R times (default 3) on N distinct packets per row (default 20000); the table
# holds the median of the R per-run medians. Pinned to the last CPU. Writes FILE (default
# vm-lab/results/dsr-stages.md). Needs root, clang and a build (dotnet build SfcProxy/SfcProxy.csproj;
# SFCPROXY_DLL overrides the path).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
dll="${SFCPROXY_DLL:-$repo/SfcProxy/bin/Debug/net10.0/sfcproxy.dll}"
packets=20000 repeats=3 out="$repo/vm-lab/results/dsr-stages.md"
while [ $# -gt 0 ]; do
	case "$1" in
	--packets) packets="$2"; shift 2 ;;
	--repeats) repeats="$2"; shift 2 ;;
	--out) out="$2"; shift 2 ;;
	*) sed -n '2,12p' "$0" >&2; exit 2 ;;
	esac
done
[ -f "$dll" ] || { echo "dsr-stages.sh: no build: $dll" >&2; exit 1; }
tmp="$(mktemp -d /tmp/dsr-stages.XXXXXX)"
ns="dsrstages$$"
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
# The FIB row's namespace: 198.18.62.0/24 on a veth, the bench's two backends as permanent
# neighbours, forwarding on (bpf_fib_lookup answers FWD_DISABLED otherwise).
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add fib0 type veth peer name fib1
ip -n "$ns" link set fib0 up
ip -n "$ns" link set fib1 up
ip -n "$ns" addr add 198.18.62.254/24 dev fib0
ip -n "$ns" neigh replace 198.18.62.1 lladdr 02:00:00:00:62:01 dev fib0 nud permanent
ip -n "$ns" neigh replace 198.18.62.2 lladdr 02:00:00:00:62:02 dev fib0 nud permanent
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1

# Stage n ends at DSR_BENCH_CUT(n, ...) in dsr_lb.bpf.c; "full" is the datapath build.
stages=(1 2 3 4 5 6 full fib fib-nocache)
declare -A what=(
	[1]="parse Ethernet/IPv4/TCP, flow key"
	[2]="+ service lookup (VIP, port, protocol) and config"
	[3]="+ flow hash"
	[4]="+ backend pick (conn table, or Maglev + insert), MSS clamp"
	[5]="+ xdp_adjust_head, L2 move, outer IPv4 header"
	[6]="+ outer header checksum"
	[full]="+ per-backend/service counters, next-hop MAC, XDP_TX (full dsr_lb, static next hop)"
	[fib]="full dsr_lb with bpf_fib_lookup and the next-hop cache (1 s), XDP_REDIRECT (the default configuration)"
	[fib-nocache]="full dsr_lb with bpf_fib_lookup per packet (NextHopMaxAgeMs 0), XDP_REDIRECT"
)
inc="/usr/include/$(uname -m)-linux-gnu"
for s in "${stages[@]}"; do
	mkdir -p "$tmp/$s"
	if [ "$s" = full ] || [ "${s%%-*}" = fib ]; then
		cp "$(dirname "$dll")/bpf/dsr_lb.bpf.o" "$tmp/$s/"
	else
		clang -O2 -g -target bpf -Wall -Werror -DDSR_BENCH_STAGE="$s" -I "$repo/bpf/lib" -idirafter "$inc" \
			-c "$repo/bpf/dsr/dsr_lb.bpf.c" -o "$tmp/$s/dsr_lb.bpf.o"
	fi
done

cpu=$(( $(nproc) - 1 ))
total=$(( ${#stages[@]} * repeats )) done=0 start=$SECONDS
for r in $(seq "$repeats"); do
	for s in "${stages[@]}"; do
		# rows: new flow, established, hot; columns 3 and 4: dsr_lb ns, empty XDP ns.
		# nsenter, not `ip netns exec`: the bench must see the host bpffs to pin its maps.
		run=(taskset -c "$cpu" dotnet "$dll" bench --dsr-only --packets "$packets" --dsr-objects "$tmp/$s")
		[ "$s" = fib ] && run=(taskset -c "$cpu" nsenter --net="/run/netns/$ns" -- "${run[@]:3}" --dsr-fib)
		[ "$s" = fib-nocache ] && run=(taskset -c "$cpu" nsenter --net="/run/netns/$ns" -- "${run[@]:3}" --dsr-fib --dsr-nexthop-max-age-ms 0)
		"${run[@]}" 2>/dev/null |
			awk -F'|' -v s="$s" '/^\| (new|established)/ { gsub(/ /, "", $3); gsub(/ /, "", $4); printf "%s %d %s %s\n", s, ++n, $3, $4 }' \
			>> "$tmp/runs"
		done=$((done + 1)) el=$((SECONDS - start))
		printf '[%3d%%] stage %-4s repeat %d/%d, ETA %ds\n' $((100 * done / total)) "$s" "$r" "$repeats" \
			$(( el * (total - done) / done )) >&2
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
{
	echo "Command: \`vm-lab/dsr-stages.sh --packets $packets --repeats $repeats\`  "
	echo "Run: $(date -u '+%Y-%m-%d %H:%M') UTC, kernel $(uname -r), $(nproc) CPUs, pinned to CPU $cpu. Median over $repeats runs of the per-run medians (ns per packet, BPF_PROG_TEST_RUN, distinct packets); each stage adds to the one above. Static next hop except in the fib rows."
	echo
	echo "| stage | dsr_lb up to here | new flow ns | established ns | established, hot ns |"
	echo "|---|---|---:|---:|---:|"
	for s in "${stages[@]}"; do
		row="| $s | ${what[$s]} |"
		for n in 1 2 3; do row+=" $(awk -v s="$s" -v n="$n" '$1 == s && $2 == n { print $3 }' "$tmp/runs" | median) |"; done
		echo "$row"
	done
	row="| floor | empty XDP program |"
	for n in 1 2 3; do row+=" $(awk -v n="$n" '$2 == n { print $4 }' "$tmp/runs" | median) |"; done
	echo "$row"
} > "$out"
cat "$out"
