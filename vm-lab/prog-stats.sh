#!/usr/bin/env bash
# Where the lab chain's time goes, measured inside the real chain rather than under
# BPF_PROG_TEST_RUN: the kernel's per-program run-time statistics (sysctl kernel.bpf_stats_enabled)
# for every program on the proxy host while the live-frames generator sends, per system and
# encapsulation. Complements `sfcproxy bench` (programs alone) and `lab.sh bench` (whole chain).
#
#   vm-lab/prog-stats.sh [--systems LIST] [--encaps LIST] [--seconds S] [--out FILE]
#
# Defaults: systems floor,metadata,header-hash; encaps 1,16,nsh1 (floor: plain UDP); 3 s each;
# FILE vm-lab/results/lab-prog-stats.md. bpf_stats_enabled is machine-wide and adds a clock read
# per program run (about 20..40 ns, on the floor's empty programs too), so it is switched on only
# for this script and restored on exit. Program ids come from SfcProxy's pinned links
# (/sys/fs/bpf/sfcproxy/INSTANCE/link_*) and, for the floor, from `bpftool net show` in the proxy
# namespace. Needs root, bpftool, clang, libbpf-dev and a build (like lab.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
systems="floor metadata header-hash" encaps="1 16 nsh1" secs=3 out="$here/results/lab-prog-stats.md"
cmdline="vm-lab/prog-stats.sh${*:+ $*}"
while [ $# -gt 0 ]; do
	case "$1" in
	--systems) systems="${2//,/ }"; shift ;;
	--encaps) encaps="${2//,/ }"; shift ;;
	--seconds) secs="$2"; shift ;;
	--out) out="$2"; shift ;;
	*) echo "prog-stats.sh: unknown argument $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "prog-stats.sh: needs root" >&2; exit 1; }

name="ps$(printf '%04x%02x' $(($$ % 65536)) $((RANDOM % 256)))"
old_stats="$(sysctl -n kernel.bpf_stats_enabled)"
tmp="$(mktemp -d /tmp/prog-stats.XXXXXX)"
cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$old_stats"
	"$here/lab.sh" teardown "$name" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# "id hook" lines for the programs attached on the proxy host of the lab that is up
prog_ids() {   # $1 system
	if [ "$1" = floor ]; then
		ip netns exec "$PRX_NS" bpftool -j net show | python3 -c '
import json, sys
for ns in json.load(sys.stdin):
    for x in ns.get("xdp", []): print(x["id"], "xdp@" + x["devname"])
    for t in ns.get("tc", []): print(t["id"], "tc-" + t["kind"] + "@" + t["devname"])'
	else
		for l in /sys/fs/bpf/sfcproxy/"$name"/link_*; do
			echo "$(bpftool -j link show pinned "$l" | python3 -c 'import json,sys; print(json.load(sys.stdin)["prog_id"])')" \
				"${l##*/link_}"
		done
	fi
}
snapshot() {   # $1 file: "id hook name run_cnt run_time_ns" per program
	while read -r id hook; do
		bpftool -j prog show id "$id" | python3 -c '
import json, sys
p = json.load(sys.stdin)
print(sys.argv[1], sys.argv[2], p.get("name", "?"), p.get("run_cnt", 0), p.get("run_time_ns", 0))' "$id" "$hook"
	done < "$tmp/ids" > "$1"
}

sysctl -qw kernel.bpf_stats_enabled=1
echo "| system | traffic | program (hook@interface) | runs per packet sent | ns per run | ns per packet sent |" > "$tmp/table"
echo "|---|---|---|---:|---:|---:|" >> "$tmp/table"
total=0; for s in $systems; do if [ "$s" = floor ]; then total=$((total + 1)); else for _ in $encaps; do total=$((total + 1)); done; fi; done
k=0; start=$SECONDS
for s in $systems; do
	"$here/lab.sh" setup "$name" --mode "$s" > "$tmp/env"
	# shellcheck disable=SC1090
	. <(grep -E '^[A-Z_0-9]+=' "$tmp/env")
	prog_ids "$s" > "$tmp/ids"
	enc_list="$encaps"; [ "$s" = floor ] && enc_list=0
	for e in $enc_list; do
		k=$((k + 1))
		printf '[%d/%d] %-11s %-5s elapsed %3ds  ' "$k" "$total" "$s" "$e" $((SECONDS - start))
		snapshot "$tmp/before"
		ip netns exec "$SND_NS" taskset -c 0 "$STATE/trafgen" send "$STATE/lab.bpf.o" "$SND_IF" "$SND_MAC" \
			"$PRX_IN_MAC" "$SND_IP4" "$RCV_IP4" "$e" "$secs" > "$tmp/send"
		snapshot "$tmp/after"
		sent="$(tr ' ' '\n' < "$tmp/send" | awk -F= '$1 == "sent" {print $2}')"
		traffic="$e labels"; case "$e" in 0) traffic="plain UDP" ;; nsh1) traffic="NSH MD1" ;; nsh2*) traffic="NSH MD2" ;; srv6-*) traffic="SRv6 $e" ;; esac
		python3 - "$tmp/before" "$tmp/after" "$sent" "$s" "$traffic" >> "$tmp/table" <<'PY'
import sys
before = {l.split()[0]: l.split() for l in open(sys.argv[1])}
sent, system, traffic = int(sys.argv[3]), sys.argv[4], sys.argv[5]
total = 0.0
for l in open(sys.argv[2]):
    pid, hook, name, cnt, ns = l.split()
    b = before[pid]
    runs, t = int(cnt) - int(b[3]), int(ns) - int(b[4])
    total += t / sent
    print(f"| {system} | {traffic} | {name} ({hook}) | {runs / sent:.2f} | {t / runs if runs else 0:.0f} | {t / sent:.0f} |")
print(f"| {system} | {traffic} | **all programs** | | | **{total:.0f}** |")
PY
		tail -1 "$tmp/table" | awk -F'|' '{printf "%s ns/packet in the proxy host'"'"'s programs\n", $7}'
	done
	"$here/lab.sh" teardown "$name" > /dev/null
done
{
	echo "# Lab: time per program inside the chain (kernel.bpf_stats_enabled)"
	echo
	echo "Command: \`$cmdline\`  "
	echo "Run: $(date -u '+%Y-%m-%d %H:%M') UTC, kernel $(uname -r), $(nproc) CPUs, $secs s of live frames per row (vm-lab/lab.sh's generator and kernel VNF)."
	echo
	echo "Run time the kernel accounts to each program attached on the proxy host (run_time_ns / run_cnt"
	echo "deltas over the row), per packet the generator sent. The statistics add a clock read per run to"
	echo "every program, the floor's empty ones included, so compare rows with each other, not with"
	echo "\`sfcproxy bench\`. 'runs per packet sent' below 1 means packets were lost before the program"
	echo "(e.g. the sender's veth queue) or, for tc_tx, not restored."
	echo
	cat "$tmp/table"
} > "$out"
echo "-> $out"
