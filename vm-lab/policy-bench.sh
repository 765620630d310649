#!/usr/bin/env bash
# Policy scaling: TCP throughput and request/response latency against the number of policy rules,
# for iptables (allow rule at the end / at the top / behind a conntrack ESTABLISHED shortcut) and
# the SfcProxy identity policy (tc ingress and egress, a fixed number of hash lookups), side by side in one run, with two
# baselines (no filtering, an empty tc BPF program). The classic Cilium-vs-iptables study, rebuilt
# on two network namespaces joined by one veth pair (198.18.20.1 -> 198.18.20.2). Needs root.
#
#   vm-lab/policy-bench.sh [--quick] [--systems LIST] [--counts LIST] [--repeats N] [--duration S]
#                          [--rr-count N] [--offloads off|on] [--iptables legacy|nft] [--out DIR]
#
# Writes DIR/policy-scaling.{csv,png,md} (default vm-lab/results; --quick defaults to a temp dir).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
pol="$here/policy"
cmdline="vm-lab/policy-bench.sh${*:+ $*}"

systems="auto"
counts="0 10 25 50 100 200 1000 10000"
repeats=3
duration=3
rr_count=20000
offloads=off
ipt_backend=legacy
rr_cpu="${PB_RR_CPU:-0}"
out=""
quick=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; counts="0 100 10000"; repeats=1; duration=1; rr_count=2000 ;;
	--systems) systems="${2//,/ }"; shift ;;
	--counts) counts="${2//,/ }"; shift ;;
	--repeats) repeats="$2"; shift ;;
	--duration) duration="$2"; shift ;;
	--rr-count) rr_count="$2"; shift ;;
	--offloads) offloads="$2"; shift ;;
	--iptables) ipt_backend="$2"; shift ;;
	--out) out="$2"; shift ;;
	-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
for t in ip tc iperf3 clang ethtool nsenter; do
	command -v "$t" >/dev/null || { echo "missing: $t" >&2; exit 1; }
done
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || { echo "missing python3-matplotlib (apt-get install -y python3-matplotlib)" >&2; exit 1; }
case "$ipt_backend" in
legacy) ipt=iptables-legacy ;;
nft) ipt=iptables-nft ;;
*) echo "--iptables legacy|nft" >&2; exit 2 ;;
esac
if ! command -v "$ipt" >/dev/null; then
	[ "$ipt_backend" = legacy ] && command -v iptables-nft >/dev/null || { echo "missing $ipt" >&2; exit 1; }
	echo "note: iptables-legacy not found, measuring iptables with the nft backend"
	ipt=iptables-nft; ipt_backend=nft
fi

id="$(printf '%04x%02x' $$ $((RANDOM % 256)))"
ns_c="pbc-$id"; ns_s="pbs-$id"
if_c="pbc$id"; if_s="pbs$id"
ip_c=198.18.20.1; ip_s=198.18.20.2
port_tp=5201; port_rr=5202
work="$(mktemp -d /tmp/policy-bench.XXXXXX)"
[ -n "$out" ] || { [ "$quick" = 1 ] && out="$work/results" || out="$repo/vm-lab/results"; }
mkdir -p "$out"
csv="$out/policy-scaling.csv"
export PB_NS="$ns_s" PB_IF="$if_s" PB_WORK="$work" PB_CLIENT_IP="$ip_c" PB_SERVER_IP="$ip_s" \
	PB_PORTS="$port_tp,$port_rr" PB_ID="$id"

sfc_attached=0
bg_pids=()
cleanup() {
	set +e
	[ "$sfc_attached" = 1 ] && bash "$pol/sfcproxy_policy.sh" detach
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${bg_pids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$ns_c" 2>/dev/null
	ip netns del "$ns_s" 2>/dev/null
	[ "$quick" = 1 ] && [ -f "$out/policy-scaling.md" ] && [ "$out" = "$work/results" ] && { echo "quick-run results kept in $out"; rm -rf "$work/sfcproxy" "$work"/*.o "$work/rr"; return; }
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_c() { ip netns exec "$ns_c" "$@"; }
in_s() { ip netns exec "$ns_s" "$@"; }

# ---- systems --------------------------------------------------------------------------------
all="none tc-bpf-noop iptables-end iptables-top iptables-ct sfcproxy"
if [ "$systems" = auto ]; then
	systems="none tc-bpf-noop iptables-end iptables-top iptables-ct"
	if why="$(bash "$pol/sfcproxy_policy.sh" check)"; then systems="$systems sfcproxy"
	else echo "note: SfcProxy policy datapath not measured: $why"; fi
fi
for s in $systems; do
	case " $all " in *" $s "*) ;; *) echo "unknown system $s (known: $all)" >&2; exit 2 ;; esac
done
if [[ " $systems " == *" sfcproxy "* ]]; then
	why="$(bash "$pol/sfcproxy_policy.sh" check)" || { echo "sfcproxy requested but: $why" >&2; exit 1; }
fi

# ---- helpers built for this run (never committed as product) ---------------------------------
clang -O2 -Wall -o "$work/rr" "$pol/rr.c"
cat > "$work/noop.bpf.c" <<'C'
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
__attribute__((section("tc"), used)) int noop(struct __sk_buff *skb) { return TC_ACT_OK; }
char _license[] __attribute__((section("license"), used)) = "GPL";
C
clang -O2 -g -target bpf -I"/usr/include/$(uname -m)-linux-gnu" -c "$work/noop.bpf.c" -o "$work/noop.bpf.o"

# ---- topology ---------------------------------------------------------------------------------
ip netns add "$ns_c"
ip netns add "$ns_s"
ip link add "$if_c" netns "$ns_c" type veth peer name "$if_s" netns "$ns_s"
in_c ip addr add "$ip_c/24" dev "$if_c"
in_s ip addr add "$ip_s/24" dev "$if_s"
for n in "$ns_c:$if_c" "$ns_s:$if_s"; do
	ip netns exec "${n%%:*}" ip link set lo up
	ip netns exec "${n%%:*}" ip link set "${n#*:}" up mtu 1500
	ip netns exec "${n%%:*}" ethtool -K "${n#*:}" tso "$offloads" gso "$offloads" gro "$offloads" >/dev/null 2>&1 || true
done
offl="$(in_c ethtool -k "$if_c" | awk '/^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):/{sub(":", "", $1); printf "%s=%s ", $1, $2}')"
# started without the in_s function so that $! is the server itself (ip netns exec execs it)
ip netns exec "$ns_s" taskset -c 1 iperf3 -s -p "$port_tp" >"$work/iperf3-server.log" 2>&1 &
bg_pids+=($!)
ip netns exec "$ns_s" taskset -c "$rr_cpu" "$work/rr" server "$port_rr" 100 200 >/dev/null 2>&1 &
bg_pids+=($!)
for _ in $(seq 1 50); do in_c bash -c "exec 3<>/dev/tcp/$ip_s/$port_rr" 2>/dev/null && break; sleep 0.1; done

# ---- set up / tear down one system --------------------------------------------------------------
ipt_reset() { in_s "$ipt" -P INPUT ACCEPT; in_s "$ipt" -F INPUT; }
setup() {   # $1 system, $2 rules
	case "$1" in
	none) ;;
	tc-bpf-noop)
		in_s tc qdisc add dev "$if_s" clsact
		in_s tc filter add dev "$if_s" ingress bpf direct-action obj "$work/noop.bpf.o" sec tc ;;
	iptables-*)
		/usr/bin/python3 "$pol/gen_rules.py" iptables --n "$2" --variant "${1#iptables-}" \
			--client "$ip_c" --server "$ip_s" --ports "$PB_PORTS" | in_s "$ipt-restore"
		local got; got="$(in_s "$ipt" -S INPUT | grep -c '^-A')"
		local want=$(($2 + 1)); [ "$1" = iptables-ct ] && want=$((want + 1))
		[ "$got" = "$want" ] || { echo "iptables: $got rules loaded, expected $want" >&2; exit 1; } ;;
	sfcproxy)
		sfc_attached=1; bash "$pol/sfcproxy_policy.sh" attach
		bash "$pol/sfcproxy_policy.sh" apply "$2" ;;
	esac
}
teardown() {
	case "$1" in
	tc-bpf-noop) in_s tc qdisc del dev "$if_s" clsact ;;
	iptables-*) ipt_reset ;;
	sfcproxy) bash "$pol/sfcproxy_policy.sh" detach; sfc_attached=0 ;;
	esac
}
# Is the filter really on? A port outside the allow rule: refused (RST, nothing filters) or
# silently dropped (timeout, the policy is enforced).
blocks_other_port() {
	if in_c timeout 0.5 bash -c "exec 3<>/dev/tcp/$ip_s/5203" 2>/dev/null; then echo open
	elif [ $? = 124 ]; then echo dropped; else echo refused; fi
}
median() { sort -g | awk '{v[NR]=$1} END{ if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2 }'; }

# ---- the run ------------------------------------------------------------------------------------
total=0; for _ in $counts; do for _ in $systems; do total=$((total + 1)); done; done
echo "policy-bench $id: systems [$systems], rules [$counts], iperf3 ${duration}s x$repeats, $rr_count round trips (100 B / 200 B)"
echo "iptables: $ipt ($($ipt --version)); veth offloads: $offl; results -> $out"
echo "run_id,utc,system,rules,iptables,offloads,tput_gbps,tput_min_gbps,tput_max_gbps,tput_runs,rr_p50_us,rr_p99_us,rr_mean_us,rr_count,other_port,allow_rule_pkts,load1" > "$csv"
load="$(cut -d' ' -f1 /proc/loadavg)"
awk -v l="$load" 'BEGIN{exit !(l > 0.5)}' && echo "warning: load average $load before the run: other work on this machine makes throughput noisy (latency, on one CPU, much less)"
start=$SECONDS; k=0
for n in $counts; do
	for s in $systems; do
		k=$((k + 1))
		el=$((SECONDS - start))
		eta=$([ $k -gt 1 ] && echo $((el * (total - k + 1) / (k - 1))) || echo "?")
		printf '[%2d/%d] %-13s rules=%-6s elapsed %3ds  ETA %ss\n' "$k" "$total" "$s" "$n" "$el" "$eta"
		setup "$s" "$n"
		other="$(blocks_other_port)"
		tps=()
		for r in $(seq 1 "$repeats"); do
			j="$(in_c taskset -c 0 iperf3 -c "$ip_s" -p "$port_tp" -t "$duration" -J)"
			tps+=("$(printf '%s' "$j" | /usr/bin/python3 -c 'import json,sys; print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/1e9))')")
		done
		tp="$(printf '%s\n' "${tps[@]}" | median)"
		tmin="$(printf '%s\n' "${tps[@]}" | sort -g | head -1)"; tmax="$(printf '%s\n' "${tps[@]}" | sort -g | tail -1)"
		rr="$(in_c taskset -c "$rr_cpu" "$work/rr" client "$ip_s" "$port_rr" 100 200 "$rr_count" 500)"
		p50="$(sed 's/.*median_us=\([^ ]*\).*/\1/' <<<"$rr")"
		p99="$(sed 's/.*p99_us=\([^ ]*\).*/\1/' <<<"$rr")"
		mean="$(sed 's/.*mean_us=\([^ ]*\).*/\1/' <<<"$rr")"
		pk=""
		[[ "$s" == iptables-* ]] && pk="$(in_s "$ipt" -L INPUT -v -x -n | tail -1 | awk '{print $1}')"
		[[ "$s" == iptables-top ]] && pk="$(in_s "$ipt" -L INPUT -v -x -n | sed -n 3p | awk '{print $1}')"
		teardown "$s"
		printf '       %.2f Gbit/s (%s)  rr p50 %s us  p99 %s us  other port: %s%s\n' "$tp" "${tps[*]}" "$p50" "$p99" "$other" "${pk:+  allow-rule pkts $pk}"
		echo "$id,$(date -u +%FT%TZ),$s,$n,$ipt_backend,$offloads,$tp,$tmin,$tmax,${tps[*]// /;},$p50,$p99,$mean,$rr_count,$other,$pk,$(cut -d' ' -f1 /proc/loadavg)" >> "$csv"
	done
done
el=$((SECONDS - start))
echo "measured $total points in ${el}s"
/usr/bin/python3 "$pol/report.py" --csv "$csv" --out "$out" --command "$cmdline" --seconds "$el" \
	--kernel "$(uname -r)" --cpus "$(nproc)" --iptables "$($ipt --version)" --offloads "$offl"
