#!/usr/bin/env bash
# Packet rate through the IP-in-IP DSR load balancer (issue 6), beside two floors, in one run.
#
#   vm-lab/lab.sh bench-dsr [--quick] [--repeats N] [--seconds S] [--warmup S] [--flows N]
#                           [--systems LIST] [--out DIR]
#
# Topology (tests/e2e/topology.sh): client (NAME-snd) -> LB (NAME-prx, ingress NAMEi) -> backend
# (NAME-rcv, NAMEr, backend addresses 198.18.2.1 and 198.18.2.3). The client sends UDP to the VIP
# 198.18.60.10:5001, 64-byte payload, from an XDP live-frames generator (vm-lab/lab/trafgen with
# dsr_lab.bpf.c: packet n from source port 1024 + n % FLOWS, so FLOWS distinct flows in turn); a tc
# program on the backend's veth counts what arrives (plain to the VIP / IP-in-IP to the VIP / other)
# and drops it. Systems, on the LB's ingress:
#   kernel-fwd  empty XDP program (native), the kernel forwards the plain packet (route VIP -> backend)
#   xdp-fwd     vm-lab/lab/xdp_fwd.bpf.c: MAC rewrite + bpf_redirect to the backend link (native)
#   dsr         `sfcproxy run` with SfcProxy:Dsr (dsr_lb native on NAMEi, bpf_fib_lookup with the
#               next-hop cache, redirect; one UDP service, two backends); the backend does not
#               decapsulate (it only counts)
#   dsr-nocache the same with NextHopMaxAgeMs 0: bpf_fib_lookup for every packet (opt-in system)
# Defaults: all three, 5 repeats of 3 s after 1 s of warm-up, 50000 flows; writes DIR/lab-dsr.{csv,md}
# (default vm-lab/results; --quick: 1 repeat of 0.7 s, a temp dir). Needs root, clang, libbpf-dev,
# ethtool, python3, and for dsr a build (dotnet build SfcProxy/SfcProxy.csproj; SFCPROXY_DLL).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
topo="$repo/tests/e2e/topology.sh"
dll="${SFCPROXY_DLL:-$repo/SfcProxy/bin/Debug/net10.0/sfcproxy.dll}"
PY=/usr/bin/python3
VIP=198.18.60.10 VIP_HEX=0xc6123c0a PORT=5001 BACKENDS="198.18.2.1 198.18.2.3" LB_SOURCE=198.18.2.2

die() { echo "dsr.sh: $*" >&2; exit 1; }

quick=0 repeats=5 secs=3 warm=1 flows=50000 systems="kernel-fwd xdp-fwd dsr" out=""
cmdline="vm-lab/lab.sh bench-dsr${*:+ $*}"
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; repeats=1; secs=0.7; warm=0.3 ;;
	--repeats) repeats="$2"; shift ;;
	--seconds) secs="$2"; shift ;;
	--warmup) warm="$2"; shift ;;
	--flows) flows="$2"; shift ;;
	--systems) systems="${2//,/ }"; shift ;;
	--out) out="$2"; shift ;;
	*) sed -n '2,20p' "$0" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || die "needs root"
for s in $systems; do case "$s" in kernel-fwd|xdp-fwd|dsr|dsr-nocache) ;; *) die "system $s (kernel-fwd|xdp-fwd|dsr|dsr-nocache)" ;; esac; done
[[ "$flows" =~ ^[0-9]+$ ]] && [ "$flows" -ge 1 ] && [ "$flows" -le 64000 ] || die "--flows 1..64000"
if [[ " $systems " == *" dsr"* ]]; then
	command -v dotnet >/dev/null || die "dotnet not on PATH"
	[ -f "$dll" ] || die "no SfcProxy build: $dll (dotnet build SfcProxy/SfcProxy.csproj)"
fi

name="vd$(printf '%04x%02x' $(($$ % 65536)) $((RANDOM % 256)))"
st="/tmp/vmlab-dsr-$name"
if [ -z "$out" ]; then
	if [ "$quick" = 1 ]; then out="$(mktemp -d /tmp/vmlab-dsr-quick.XXXXXX)"; else out="$repo/vm-lab/results"; fi
fi
mkdir -p "$out" "$st"

# ---- cleanup: the daemon (by pid), the namespaces (and with them every veth and XDP program), pins
cleanup() {
	set +e
	detach
	"$topo" down "$name" >/dev/null 2>&1
	rm -rf "/sys/fs/bpf/sfcproxy/$name" "$st"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- lab -------------------------------------------------------------------------------------------
"$topo" up "$name" > "$st/env"
# shellcheck disable=SC1091
. "$st/env"
nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }
# The LB forwards without the kernel VNF's iptables chain (topology.sh hooks it into FORWARD): the
# kernel-fwd floor is plain IP forwarding.
for t in iptables ip6tables; do nsx "$PRX_NS" "$t" -D FORWARD -j SFCVNF; done
nsx "$PRX_NS" ip route add "$VIP/32" via "$RCV_IP4" dev "$PRX_OUT"
nsx "$RCV_NS" ip addr add 198.18.2.3/24 dev "$RCV_IF"
nsx "$PRX_NS" ip neigh replace 198.18.2.3 lladdr "$RCV_MAC" nud permanent dev "$PRX_OUT"
# Native XDP redirect into a veth lands in its peer's NAPI queue, which exists only with an XDP
# program (or GRO) there (see DsrEndToEndTests): an empty one on the backend's veth, GRO off, so the
# backend does the same work (build an skb, run the counter) for plain and encapsulated frames.
# `sfcproxy run` also runs the SFC proxy, which needs its own two interfaces: an idle veth pair.
nsx "$PRX_NS" ip link add "${name}p" type veth peer name "${name}q"
nsx "$PRX_NS" ip link set "${name}p" up
nsx "$PRX_NS" ip link set "${name}q" up

inc="/usr/include/$(uname -m)-linux-gnu"
mac_init() { echo "{0x${1//:/,0x}}"; }
clang -O2 -g -target bpf -I"$inc" -DDSR_LAB_FLOWS="$flows" -DDSR_LAB_VIP="$VIP_HEX" -c "$here/dsr_lab.bpf.c" -o "$st/dsr_lab.bpf.o"
clang -O2 -g -target bpf -I"$inc" -c "$repo/bpf/bench/empty_xdp.bpf.c" -o "$st/empty_xdp.bpf.o"
clang -O2 -g -target bpf -I"$inc" -DFWD_IFINDEX="$(nsx "$PRX_NS" cat "/sys/class/net/$PRX_OUT/ifindex")" \
	-DFWD_SMAC="$(mac_init "$PRX_OUT_MAC")" -DFWD_DMAC="$(mac_init "$RCV_MAC")" -c "$here/xdp_fwd.bpf.c" -o "$st/xdp_fwd.bpf.o"
clang -O2 -Wall -o "$st/trafgen" "$here/trafgen.c" -lbpf
nsx "$RCV_NS" ip link set dev "$RCV_IF" xdpdrv obj "$st/empty_xdp.bpf.o" sec xdp

# ---- systems ---------------------------------------------------------------------------------------
attach() {   # $1 system
	case "$1" in
	kernel-fwd) nsx "$PRX_NS" ip link set dev "$PRX_IN" xdpdrv obj "$st/empty_xdp.bpf.o" sec xdp ;;
	xdp-fwd) nsx "$PRX_NS" ip link set dev "$PRX_IN" xdpdrv obj "$st/xdp_fwd.bpf.o" sec xdp ;;
	dsr|dsr-nocache)
		local sock="$st/sfcproxy.sock" backends="" b maxage=""
		[ "$1" = dsr-nocache ] && maxage='"NextHopMaxAgeMs": 0, '
		for b in $BACKENDS; do backends+="${backends:+, }{\"Address\": \"$b\"}"; done
		cat > "$st/sfcproxy.json" <<JSON
{"SfcProxy": {"Instance": "$name", "Interfaces": {"Ingress": "${name}p", "Egress": "${name}q"},
  "Socket": {"Path": "$sock"},
  "Dsr": {"Interface": "$PRX_IN", "XdpMode": "native", "Source": "$LB_SOURCE", $maxage
    "Services": [{"Vip": "$VIP", "Port": $PORT, "Protocol": "udp", "Backends": [$backends]}]}}}
JSON
		local cpu=(); [ "$(nproc)" -gt 1 ] && cpu=(taskset -c 1)
		# nsenter, not `ip netns exec`: the daemon must see the host bpffs to pin its maps.
		"${cpu[@]}" nsenter --net="/run/netns/$PRX_NS" -- dotnet "$dll" run --config "$st/sfcproxy.json" \
			> "$st/daemon.log" 2>&1 &
		echo $! > "$st/daemon.pid"
		local p; p=$(cat "$st/daemon.pid")
		for _ in $(seq 300); do
			[ -S "$sock" ] && nsx "$PRX_NS" ip link show "$PRX_IN" | grep -q "xdp" && break
			kill -0 "$p" 2>/dev/null || { cat "$st/daemon.log" >&2; die "sfcproxy exited"; }
			sleep 0.1
		done
		[ -S "$sock" ] || { cat "$st/daemon.log" >&2; die "sfcproxy not ready after 30 s"; } ;;
	esac
}
detach() {
	local p; p="$(cat "$st/daemon.pid" 2>/dev/null || true)"
	if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
		kill -TERM "$p"   # DetachOnStop (default true): detaches and removes its pins
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	fi
	rm -f "$st/daemon.pid"
	[ -n "${PRX_NS:-}" ] && nsx "$PRX_NS" ip link set dev "$PRX_IN" xdp off 2>/dev/null
	return 0
}
# dsr_lb's outcome counters (sum over CPUs) as "name=value ..." for the CSV (dsr system only).
lb_counters() {
	dotnet "$dll" dsr ls --socket "$st/sfcproxy.sock" --json 2>/dev/null | "$PY" -c '
import json, sys
c = json.load(sys.stdin)["dsr"].get("counters", {})
print(" ".join(f"{k}={v}" for k, v in c.items() if v))' 2>/dev/null || echo "unavailable"
}

# ---- one measurement (as lab.sh bench): -> "rx_pps tx_pps packets by_kind_json tx_packets cpu_ns" --
ksoftirqd0="$(ps -eo pid=,comm= | awk '$2 == "ksoftirqd/0" {print $1}')"
[ -n "$ksoftirqd0" ] || die "no ksoftirqd/0"
ksoft_ticks() { awk '{print $14 + $15}' "/proc/$ksoftirqd0/stat"; }
measure() {
	local cnt="$st/count.out" snd="$st/send.out" tot k0 k1 cp
	nsx "$RCV_NS" "$st/trafgen" count "$st/dsr_lab.bpf.o" "$RCV_IF" "$warm" "$secs" > "$cnt" &
	cp=$!
	for _ in $(seq 100); do grep -q READY "$cnt" 2>/dev/null && break; sleep 0.02; done
	tot=$(awk -v a="$warm" -v b="$secs" 'BEGIN{print a + b + 0.3}')
	k0="$(ksoft_ticks)"
	nsx "$SND_NS" taskset -c 0 "$st/trafgen" send "$st/dsr_lab.bpf.o" "$SND_IF" "$SND_MAC" "$PRX_IN_MAC" \
		"$SND_IP4" "$VIP" 0 "$tot" > "$snd"
	k1="$(ksoft_ticks)"
	wait "$cp"
	"$PY" - "$cnt" "$snd" "$((k1 - k0))" "$(getconf CLK_TCK)" <<'PY'
import json, sys
c = json.loads(open(sys.argv[1]).read().split("READY", 1)[1])
s = dict(kv.split("=") for kv in open(sys.argv[2]).read().split())
cpu = float(s["cpu_s"]) + int(sys.argv[3]) / int(sys.argv[4])
sent = int(s["sent"])
print(f'{c["pps"]:.0f} {float(s["pps"]):.0f} {c["packets"]} {json.dumps(c["by_labels"], separators=(",", ":"))} '
      f'{sent} {1e9 * cpu / sent:.0f}')
PY
}

# ---- bench -----------------------------------------------------------------------------------------
csv="$out/lab-dsr.csv"
echo "run_id,utc,system,rep,flows,rx_pps,tx_pps,packets,expected,ok_share,by_kind,tx_packets,cpu_ns_per_pkt,load1,lb_counters" > "$csv"
n_sys=$(wc -w <<< "$systems") total=$((n_sys * repeats)) k=0 start=$SECONDS
echo "lab-dsr $name: systems [$systems], $repeats x ${secs}s (+${warm}s warm-up), $flows flows; results -> $out"
for r in $(seq 1 "$repeats"); do
	for s in $systems; do
		k=$((k + 1))
		el=$((SECONDS - start)) eta="?"
		[ "$k" -gt 1 ] && eta=$((el * (total - k + 1) / (k - 1)))
		printf '[%2d/%d] rep %d %-10s elapsed %3ds  ETA %ss  ' "$k" "$total" "$r" "$s" "$el" "$eta"
		attach "$s"
		read -r rx tx pk by txp cns <<< "$(measure)"
		exp=0; [ "${s%%-*}" = dsr ] && exp=1   # 0: plain IPv4 to the VIP, 1: IP-in-IP to a backend
		ok="$($PY -c 'import json,sys; b=json.loads(sys.argv[1]); n=int(sys.argv[2]); print("%.4f" % (b.get(sys.argv[3], 0) / n if n else 0))' "$by" "$pk" "$exp")"
		lbc=""; [ "${s%%-*}" = dsr ] && lbc="$(lb_counters)"
		detach
		printf '%8.0f pps at the backend (sent %.0f), %5d CPU ns/packet, %s %s\n' "$rx" "$tx" "$cns" "$ok" \
			"$([ "$exp" = 1 ] && echo "IP-in-IP" || echo "plain")"
		echo "$name,$(date -u +%FT%TZ),$s,$r,$flows,$rx,$tx,$pk,$exp,$ok,\"${by//\"/\"\"}\",$txp,$cns,$(cut -d' ' -f1 /proc/loadavg),\"$lbc\"" >> "$csv"
	done
done
el=$((SECONDS - start))
echo "measured $total points in ${el}s"
"$PY" "$here/dsr_report.py" --csv "$csv" --out "$out/lab-dsr.md" --command "$cmdline" --seconds "$el" \
	--kernel "$(uname -r)" --cpus "$(nproc)"
[ "$quick" = 1 ] && echo "quick-run results kept in $out"
exit 0
