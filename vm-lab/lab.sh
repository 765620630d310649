#!/usr/bin/env bash
# The paper's evaluation on one machine: sender -> proxy host (SfcProxy + VNF) -> receiver as three
# network namespaces (tests/e2e/topology.sh), SR-MPLS traffic from an XDP live-frames generator,
# packets per second at the receiver against the number of labels, SfcProxy beside the floor.
#
#   vm-lab/lab.sh setup NAME [--vnf kernel|tun|sidecar] [--mode none|floor|static|ovs|metadata|header-hash|kernel-srv6]
#   vm-lab/lab.sh exec NAME sender|proxy|receiver|vnf CMD...  (also snd|prx|rcv; vnf: --vnf sidecar)
#   vm-lab/lab.sh teardown NAME
#   vm-lab/lab.sh bench [--quick] [--vnf kernel|tun|sidecar] [--labels LIST] [--nsh LIST] [--srv6 LIST]
#                       [--repeats N] [--seconds S] [--warmup S] [--systems LIST] [--out DIR] [--rates LIST]
#   vm-lab/lab.sh bench-tcp [--quick] ...   TCP Gbit/s through iperf3 (options: vm-lab/lab/tcp.sh)
#   vm-lab/lab.sh bench-dsr [--quick] ...   packet rate through the DSR load balancer (vm-lab/lab/dsr.sh)
#
# setup: the topology, then the proxy datapath: floor = an empty XDP program on the proxy ingress
# and an empty tc egress program on its egress (no encapsulation is sent to it); static = the
# benchmark's static proxy where SfcProxy's programs sit (bpf/bench/static_pop.bpf.c native XDP on
# the ingress, static_push.bpf.c tc egress pushing a fixed header, the one SfcProxy restores, set
# per point; vm-lab/lab/static.sh; setup: the 1-label header): the job's own limit in this hook
# design, the reference the goals' shares of the floor are read against; metadata /
# header-hash = `sfcproxy run` with that key mode (ConsumedSegments 1, MissPolicy drop, MPLS and NSH,
# Nsh:NextHopMac = the receiver); ovs = Open vSwitch (userspace datapath) as a static proxy that pops
# the labels before the VNF and pushes a fixed stack after it (vm-lab/lab/ovs.sh; 1..3 labels and NSH;
# setup installs the 1-label flows); kernel-srv6 = the kernel's own static SRv6 proxy (seg6local
# End.DX4 on the SID, `encap seg6` with a fixed segment list out; vm-lab/lab/kernel_srv6.sh; SRv6
# points only, sent as srv6-N-sl0: End.DX4 takes only a policy's last segment); none = nothing
# attached. SfcProxy's config also lists `srv6` with the lab's SID (vm-lab/lab/srv6_lab.h) when SRv6
# is measured (and in setup). Prints the topology's KEY=VALUE lines; state lives in /tmp/vmlab-NAME.
# bench: its own lab (unique name), systems floor, ovs (if Open vSwitch is installed), static, metadata,
# header-hash (kernel VNF), labels 1 4 8 16 (ovs: those <= 3, plus 3; NSH up to 248 B), NSH nsh1 (MD type 1, 24 B)
# and MD type 2 at three header sizes: nsh2 (no TLV, 8 B), nsh2-64 (one 64-byte TLV, 76 B) and
# nsh2-236 (two TLVs, 252 B: NSH's largest), 5 repeats of 3 s; writes DIR/lab-pps.{csv,png,md} and
# lab-pps-nsh.png (rate and cost against the NSH header bytes) (default vm-lab/results; --quick: a
# temp dir, 1 repeat of 0.7 s at 1 and 16 labels and nsh1, ovs at 1 label, no SRv6).
# --srv6 LIST (default "srv6-1 srv6-2 srv6-4 srv6-8 srv6-16 srv6-4-t"; "" for none): SRv6 points
# (srv6-N: N segments after the proxy SID; -t: with 56 bytes of SRH TLVs, vm-lab/lab/srv6_lab.h) for
# metadata, header-hash, static and kernel-srv6 (kernel-srv6 added to the default systems); with SRv6 points the run also
# writes DIR/lab-pps-srv6.{csv,md,png} (every row of the run; the report vm-lab/lab/srv6_report.py),
# and lab-pps.* from the rows without SRv6.
# --vnf tun: the user-mode VNF (tests/e2e/tun_vnf.py, Python) instead, systems floor and
# header-hash (the metadata key cannot cross user space), a paced sender at a ladder of offered
# rates (--rates; vm-lab/lab/tun.sh), files lab-pps-tun.*. --vnf sidecar: the VNF in its own
# namespace behind the proxy (vm-lab/lab/sidecar.sh), floor and header-hash, files
# lab-pps-sidecar.*. Needs root, clang, libbpf-dev, ethtool, python3-matplotlib, openvswitch-switch
# for ovs, and for SfcProxy a build (dotnet build SfcProxy/SfcProxy.csproj; SFCPROXY_DLL overrides
# the path).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
topo="$repo/tests/e2e/topology.sh"
dll="${SFCPROXY_DLL:-$repo/SfcProxy/bin/Debug/net10.0/sfcproxy.dll}"
PY=/usr/bin/python3
# shellcheck source=vm-lab/lab/ovs.sh
. "$here/lab/ovs.sh"   # the Open vSwitch static-proxy baseline (system ovs)
# shellcheck source=vm-lab/lab/kernel_srv6.sh
. "$here/lab/kernel_srv6.sh"   # the kernel's static SRv6 proxy baseline (system kernel-srv6)
# shellcheck source=vm-lab/lab/static.sh
. "$here/lab/static.sh"   # the benchmark's static proxy in SfcProxy's hooks (system static)
LAB_SRV6="${LAB_SRV6:-1}"   # SfcProxy config lists srv6 (bench: only when it measures SRv6)

die() { echo "lab.sh: $*" >&2; exit 1; }
usage() { awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0" >&2; exit 2; }   # the header comment
# shellcheck source=lab/sidecar.sh
. "$here/lab/sidecar.sh"
# shellcheck source=lab/tun.sh
. "$here/lab/tun.sh"

# ---- build the lab helpers (run time, temp dir; never committed as binaries) ------------------
build_tools() {   # $1 dir
	local d="$1" inc="/usr/include/$(uname -m)-linux-gnu"
	clang -O2 -g -target bpf -I"$inc" -c "$here/lab/lab.bpf.c" -o "$d/lab.bpf.o"
	clang -O2 -g -target bpf -I"$inc" -c "$repo/bpf/bench/empty_xdp.bpf.c" -o "$d/empty_xdp.bpf.o"
	clang -O2 -g -target bpf -I"$inc" -c "$repo/bpf/bench/empty_tc.bpf.c" -o "$d/empty_tc.bpf.o"
	clang -O2 -g -target bpf -I"$inc" -c "$repo/bpf/bench/static_pop.bpf.c" -o "$d/static_pop.bpf.o"
	clang -O2 -g -target bpf -I"$inc" -c "$repo/bpf/bench/static_push.bpf.c" -o "$d/static_push.bpf.o"
	clang -O2 -Wall -o "$d/trafgen" "$here/lab/trafgen.c" -lbpf
}

# ---- proxy datapath: attach / detach one mode on a lab whose env is loaded --------------------
# Needs: state dir $st with env (topology KEY=VALUE), tools in $st.
attach_mode() {   # $1 mode
	case "$1" in
	none) ;;
	floor)
		if [ "$VNF" = sidecar ]; then sidecar_attach_floor; echo floor > "$st/mode"; return; fi
		ip netns exec "$PRX_NS" ip link set dev "$PRX_IN" xdpdrv obj "$st/empty_xdp.bpf.o" sec xdp
		ip netns exec "$PRX_NS" tc qdisc add dev "$PRX_OUT" clsact
		ip netns exec "$PRX_NS" tc filter add dev "$PRX_OUT" egress bpf direct-action obj "$st/empty_tc.bpf.o" sec tc ;;
	metadata|header-hash)
		command -v dotnet >/dev/null || die "dotnet not on PATH"
		[ -f "$dll" ] || die "no SfcProxy build: $dll (run: dotnet build SfcProxy/SfcProxy.csproj)"
		local sock="$st/sfcproxy.sock" cache="${LAB_CACHE_JSON:-}"
		[ -n "$cache" ] || cache='{"Size": 16383}'
		local srv6=""   # the lab's SID (srv6_lab.h), handing inner IPv4 to the VNF
		[ "$LAB_SRV6" != 1 ] || srv6=', "srv6"], "Srv6": {"Sids": [{"Sid": "'"$KSRV6_SID"'", "Inner": ["ipv4"]}]}'
		cat > "$st/sfcproxy.json" <<JSON
{"SfcProxy": {"Instance": "$NAME", "KeyMode": "$1",
  "Encapsulations": ["mpls", "nsh"${srv6:-]}, "Nsh": {"NextHopMac": "$RCV_MAC"},
  "Interfaces": {"Ingress": "$PRX_IN", "Egress": "$PRX_OUT"$(sidecar_vnf_json)},
  "ConsumedSegments": 1, "MissPolicy": "drop", "Cache": $cache,
  "Socket": {"Path": "$sock"}}}
JSON
		local cpu=(); [ "$(nproc)" -gt 1 ] && cpu=(taskset -c 1)
		# nsenter, not `ip netns exec`: the daemon must see the host bpffs to pin its maps.
		"${cpu[@]}" nsenter --net="/run/netns/$PRX_NS" -- dotnet "$dll" run --config "$st/sfcproxy.json" \
			> "$st/daemon.log" 2>&1 &
		echo $! > "$st/daemon.pid"
		local p; p=$(cat "$st/daemon.pid")
		for _ in $(seq 300); do
			[ -S "$sock" ] && break
			kill -0 "$p" 2>/dev/null || { cat "$st/daemon.log" >&2; die "sfcproxy exited"; }
			sleep 0.1
		done
		[ -S "$sock" ] || { cat "$st/daemon.log" >&2; die "sfcproxy not ready after 30 s"; } ;;
	static) [ "$VNF" = kernel ] || die "static: kernel VNF only"; static_attach ;;
	ovs) ovs_attach ;;
	kernel-srv6) kernel_srv6_attach ;;
	*) die "mode: none|floor|static|ovs|metadata|header-hash|kernel-srv6" ;;
	esac
	echo "$1" > "$st/mode"
}
detach_mode() {
	local m; m="$(cat "$st/mode" 2>/dev/null || echo none)"
	case "$m" in
	floor)
		ip netns exec "$PRX_NS" ip link set dev "$PRX_IN" xdpdrv off 2>/dev/null || true
		ip netns exec "$PRX_NS" tc qdisc del dev "$PRX_OUT" clsact 2>/dev/null || true ;;
	metadata|header-hash)
		local p; p="$(cat "$st/daemon.pid" 2>/dev/null || true)"
		if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
			kill -TERM "$p"   # DetachOnStop (default true): detaches and removes its pins
			for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
		fi
		rm -f "$st/daemon.pid" ;;
	static) static_detach ;;
	ovs) ovs_detach ;;
	kernel-srv6) kernel_srv6_detach ;;
	esac
	echo none > "$st/mode"
}

# ---- setup / teardown ----------------------------------------------------------------------------
lab_up() {   # $1 name $2 vnf  (sets st and the topology env)
	NAME="$1"; st="/tmp/vmlab-$NAME"
	[ ! -e "$st" ] || die "$st exists (lab $NAME is up? run: $0 teardown $NAME)"
	mkdir -p "$st"
	build_tools "$st"
	local opt=()
	case "$2" in tun) opt=(--user-vnf) ;; sidecar) opt=(--sidecar-vnf) ;; esac
	"$topo" up "$NAME" "${opt[@]}" > "$st/env"
	echo "VNF=$2" >> "$st/env"
	# shellcheck disable=SC1091
	. "$st/env"
	[ "$2" != tun ] || tun_start_vnf
}
lab_load() {   # $1 name
	NAME="$1"; st="/tmp/vmlab-$NAME"
	[ -f "$st/env" ] || die "no lab $NAME ($st/env missing)"
	# shellcheck disable=SC1091
	. "$st/env"
}
lab_down() {   # $1 name; idempotent
	NAME="$1"; st="/tmp/vmlab-$NAME"
	if [ -f "$st/env" ]; then
		# shellcheck disable=SC1091
		. "$st/env"
		detach_mode
		[ ! -f "$st/vnf.pid" ] || kill -TERM "$(cat "$st/vnf.pid")" 2>/dev/null || true   # may have stopped already
	fi
	"$topo" down "$NAME" || true
	rm -rf "$st"
}

# ---- one measurement -----------------------------------------------------------------------------
# $1 labels sent (or nsh1 / nsh2-V, see trafgen.c), $2 warmup s, $3 seconds
#   -> prints "rx_pps tx_pps packets by_labels_json tx_packets cpu_ns_per_pkt"
# cpu_ns_per_pkt: CPU time of the sender process (the generator and, in softirq on its CPU, the
# whole chain) plus ksoftirqd/0's (softirq work the kernel deferred), per packet sent. Unlike the
# rate it does not drop when other work on the machine takes CPU 0 away from the bench.
ksoft_ticks() { awk '{print $14 + $15}' "/proc/$ksoftirqd0/stat"; }
measure() {
	local labels="$1" warm="$2" secs="$3" cnt="$st/count.out" snd="$st/send.out"
	ip netns exec "$RCV_NS" "$st/trafgen" count "$st/lab.bpf.o" "$RCV_IF" "$warm" "$secs" > "$cnt" &
	local cp=$!
	for _ in $(seq 100); do grep -q READY "$cnt" 2>/dev/null && break; sleep 0.02; done
	local tot k0 k1 o0 o1; tot=$(awk -v a="$warm" -v b="$secs" 'BEGIN{print a + b + 0.3}')
	k0="$(ksoft_ticks)"; o0="$(ovs_ticks)"
	ip netns exec "$SND_NS" taskset -c 0 "$st/trafgen" send "$st/lab.bpf.o" "$SND_IF" "$SND_MAC" \
		"$PRX_IN_MAC" "$SND_IP4" "$RCV_IP4" "$labels" "$tot" > "$snd"
	k1="$(ksoft_ticks)"; o1="$(ovs_ticks)"
	wait "$cp"
	"$PY" - "$cnt" "$snd" "$((k1 - k0))" "$(getconf CLK_TCK)" "$((o1 - o0))" <<'PY'
import json, sys
c = json.loads(open(sys.argv[1]).read().split("READY", 1)[1])
s = dict(kv.split("=") for kv in open(sys.argv[2]).read().split())
cpu = float(s["cpu_s"]) + int(sys.argv[3]) / int(sys.argv[4])
sent = int(s["sent"])
# OVS (ovs.sh) runs its side on CPU 1, not in the sender's softirq: its CPU over the packets it delivered.
ovs_cpu, done = int(sys.argv[5]) / int(sys.argv[4]), c["pps"] * float(s["seconds"])
extra = ovs_cpu / done if ovs_cpu and done else 0
print(f'{c["pps"]:.0f} {float(s["pps"]):.0f} {c["packets"]} {json.dumps(c["by_labels"], separators=(",", ":"))} '
      f'{sent} {1e9 * (cpu / sent + extra):.0f}')
PY
}

offloads_of() {   # "dev: gro=on gso=on tso=on ..." for NS:DEV..., default the four lab interfaces
	local ns dev
	(($#)) || set -- "$SND_NS:$SND_IF" "$PRX_NS:$PRX_IN" "$PRX_NS:$PRX_OUT" "$RCV_NS:$RCV_IF"
	for ns_dev in "$@"; do
		ns="${ns_dev%%:*}"; dev="${ns_dev#*:}"
		printf '%s: %s; ' "$dev" "$(ip netns exec "$ns" ethtool -k "$dev" | awk '
			/^(tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload|rx-gro-list|rx-udp-gro-forwarding):/ {
				sub(":", "", $1); n = $1; sub("tcp-segmentation-offload", "tso", n); sub("generic-segmentation-offload", "gso", n)
				sub("generic-receive-offload", "gro", n); printf "%s=%s ", n, $2 }')"
	done
}

# ---- bench ---------------------------------------------------------------------------------------
bench() {
	local quick=0 labels="1 4 8 16" nsh="nsh1 nsh2 nsh2-64 nsh2-236" srv6="srv6-1 srv6-2 srv6-4 srv6-8 srv6-16 srv6-4-t" repeats=5 secs=3 warm=1 systems="" out="" vnf=kernel rates=
	local cmdline="vm-lab/lab.sh bench${*:+ $*}"
	while [ $# -gt 0 ]; do
		case "$1" in
		--quick) quick=1; labels="1 16"; nsh="nsh1"; srv6=""; repeats=1; secs=0.7; warm=0.3 ;;
		--labels) labels="${2//,/ }"; shift ;;
		--nsh) nsh="${2//,/ }"; shift ;;
		--srv6) srv6="${2//,/ }"; shift ;;
		--repeats) repeats="$2"; shift ;;
		--seconds) secs="$2"; shift ;;
		--warmup) warm="$2"; shift ;;
		--systems) systems="${2//,/ }"; shift ;;
		--out) out="$2"; shift ;;
		--vnf) vnf="$2"; shift ;;
		--rates) rates="${2//,/ }"; shift ;;
		*) die "bench: unknown argument $1" ;;
		esac
		shift
	done
	case "$vnf" in
	kernel) if [ -z "$systems" ]; then
			if ovs_available; then systems="floor ovs static metadata header-hash"; else
				echo "note: Open vSwitch not installed: no ovs baseline (scripts/setup.sh installs it)"
				systems="floor static metadata header-hash"; fi
			[ -z "$srv6" ] || systems+=" kernel-srv6"
		fi ;;
	tun|sidecar) [ -n "$systems" ] || systems="floor header-hash"
		srv6=""; LAB_SRV6=0   # the SRv6 rows are the kernel VNF's (their own report)
		[[ " $systems " != *" metadata "* ]] || die "the metadata key does not survive a VNF outside the proxy's stack (--vnf $vnf)" ;;
	*) die "--vnf kernel|tun|sidecar" ;;
	esac
	for s in $systems; do case "$s" in floor|metadata|header-hash) ;; static) [ "$vnf" = kernel ] || die "static: kernel VNF only" ;; kernel-srv6) [ "$vnf" = kernel ] || die "kernel-srv6: kernel VNF only" ;; ovs) [ "$vnf" = kernel ] || die "ovs: kernel VNF only"
		ovs_available || die "ovs: Open vSwitch not installed (scripts/setup.sh)" ;; *) die "system $s (floor|static|ovs|metadata|header-hash|kernel-srv6)" ;; esac; done
	if [ "$vnf" = tun ]; then
		# paced ladder of offered rates, its own loop and report (vm-lab/lab/tun.sh)
		tun_bench "$quick" "$labels" "$repeats" "$secs" "$warm" "$systems" "$out" "$rates" "$cmdline"
		return
	fi
	for l in $labels; do [[ "$l" =~ ^[0-9]+$ ]] && [ "$l" -ge 1 ] && [ "$l" -le 16 ] || die "labels 1..16"; done
	# nsh2-V: V value bytes of MD2 metadata, 0..236 (trafgen.c: 236 makes the 252-byte maximum)
	for l in $nsh; do [[ "$l" =~ ^nsh(1|2|2-[0-9]+)$ ]] && { [[ "$l" != nsh2-* ]] || [ "${l#nsh2-}" -le 236 ]; } ||
		die "--nsh: nsh1, nsh2 or nsh2-V (V <= 236)"; done
	for l in $srv6; do [[ "$l" =~ ^srv6-([0-9]+)(-t)?$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le 16 ] ||
		die "--srv6: srv6-N or srv6-N-t (N 1..16 segments after the proxy SID)"; done
	LAB_SRV6=0; [ -z "$srv6" ] || LAB_SRV6=1
	$PY -c 'import matplotlib' 2>/dev/null || die "missing python3-matplotlib (apt-get install -y python3-matplotlib)"
	if [[ " $systems " == *" metadata "* || " $systems " == *" header-hash "* ]] && [ ! -f "$dll" ]; then
		echo "note: no SfcProxy build ($dll): measuring the floor, static and ovs only (dotnet build SfcProxy/SfcProxy.csproj)"
		systems="$(for s in $systems; do case "$s" in floor|static|ovs) echo "$s" ;; esac; done | xargs)"
	fi
	local name; name="vl$(printf '%04x%02x' $(($$ % 65536)) $((RANDOM % 256)))"
	local qtmp=""
	if [ -z "$out" ]; then
		if [ "$quick" = 1 ]; then qtmp="$(mktemp -d /tmp/vmlab-quick.XXXXXX)"; out="$qtmp"; else out="$here/results"; fi
	fi
	mkdir -p "$out"
	trap 'lab_down "'"$name"'"' EXIT
	trap 'exit 130' INT TERM
	lab_up "$name" "$vnf"
	ksoftirqd0="$(ps -eo pid=,comm= | awk '$2 == "ksoftirqd/0" {print $1}')"
	[ -n "$ksoftirqd0" ] || die "no ksoftirqd/0"
	local offl; offl="$(offloads_of "$SND_NS:$SND_IF" "$PRX_NS:$PRX_IN" "$PRX_NS:$PRX_OUT" "$RCV_NS:$RCV_IF" $(sidecar_devices))"
	local base=lab-pps; [ "$vnf" = kernel ] || base="lab-pps-$vnf"
	local csv="$out/$base.csv"
	echo "run_id,utc,system,vnf,encap,labels,rep,rx_pps,tx_pps,packets,expected_labels,ok_share,by_labels,tx_packets,cpu_ns_per_pkt,load1" > "$csv"
	# points: the floor (no labels) once per repeat, each SfcProxy mode at every label count
	# ovs: the points OVS can proxy (ovs.sh: at most 3 labels), plus its deepest stack, 3, in a full run
	local per=0 total ovs_pts="" l
	for l in $labels; do ovs_supports "$l" && ovs_pts+=" $l"; done
	[ "$quick" = 1 ] || [[ " $ovs_pts " == *" 3 "* ]] || [ -z "$(for l in $labels; do ((l > 3)) && echo x; done)" ] || ovs_pts+=" 3"
	if [ "$quick" != 1 ]; then for l in $nsh; do ! ovs_supports "$l" || ovs_pts+=" $l"; done; fi   # NSH: up to 248 B
	points() { case "$1" in floor) echo 0 ;; ovs) echo $ovs_pts ;; kernel-srv6) echo $srv6 ;; *) echo $labels $nsh $srv6 ;; esac; }
	for s in $systems; do for _ in $(points "$s"); do per=$((per + 1)); done; done
	total=$((per * repeats))
	echo "lab-bench $name: systems [$systems], labels [$labels], NSH [$nsh], SRv6 [$srv6], $repeats x ${secs}s (+${warm}s warm-up) per point, $vnf VNF"
	echo "offloads: $offl"
	echo "results -> $out"
	local start=$SECONDS k=0
	for r in $(seq 1 "$repeats"); do
		for s in $systems; do
			attach_mode "$s"
			if [ "$s" = ovs ] && [[ "$offl" != *"${NAME}a:"* ]]; then   # OVS's internal ports (taps), once
				local oo; oo="ovs ports $LAB_OVS_PORTS; $(offloads_of "$PRX_NS:${NAME}a" "$PRX_NS:${NAME}b")"; echo "ovs: $oo"; offl+="$oo"
			fi
			for l in $(points "$s"); do
				k=$((k + 1))
				local el=$((SECONDS - start)) eta="?"
				[ "$k" -gt 1 ] && eta=$((el * (total - k + 1) / (k - 1)))
				local exp enc=mpls nl="$l"
				case "$l" in nsh*) exp=18; enc="$l"; nl=0 ;;
				srv6-*) enc="$l"; nl=0; exp="${l#srv6-}"; exp=$((18 + ${exp%-t}))   # srv6_lab.h: LAB_SRV6_SLOT
					[[ "$l" != *-t ]] || exp=$((exp + 16)) ;;
				*) exp=$((l > 0 ? l - 1 : 0)) ;; esac
				printf '[%2d/%d] rep %d %-11s %-9s elapsed %3ds  ETA %ss  ' "$k" "$total" "$r" "$s" "$([ "$enc" = mpls ] && echo "labels=$l" || echo "$l")" "$el" "$eta"
				local res rx tx pk by ok txp cns
				[ "$s" = ovs ] && ovs_flows "$l"
				[ "$s" = kernel-srv6 ] && kernel_srv6_point "$l"
				[ "$s" = static ] && static_point "$l"
				local sent="$l"; [ "$s" != kernel-srv6 ] || sent="$l-sl0"   # kernel_srv6.sh: End.DX4 needs SL 0
				res="$(measure "$sent" "$warm" "$secs")"
				read -r rx tx pk by txp cns <<< "$res"
				ok="$($PY -c 'import json,sys; b=json.loads(sys.argv[1]); n=int(sys.argv[2]); print("%.4f" % (b.get(sys.argv[3], 0) / n if n else 0))' "$by" "$pk" "$exp")"
				printf '%8.0f pps at the receiver (sent %.0f), %5d CPU ns/packet, %s %s\n' "$rx" "$tx" "$cns" "$ok" \
					"$(case "$enc" in nsh*) echo "NSH" ;; srv6*) echo "as End.AD emits it" ;; *) echo "with $exp labels" ;; esac)"
				echo "$name,$(date -u +%FT%TZ),$s,$vnf,$enc,$nl,$r,$rx,$tx,$pk,$exp,$ok,\"${by//\"/\"\"}\",$txp,$cns,$(cut -d' ' -f1 /proc/loadavg)" >> "$csv"
			done
			detach_mode
		done
	done
	local el=$((SECONDS - start))
	echo "measured $total points in ${el}s"
	local rep_args=(--out "$out" --command "$cmdline" --seconds "$el" --kernel "$(uname -r)" --cpus "$(nproc)" --offloads "$offl")
	if [ -n "$srv6" ]; then   # every row to lab-pps-srv6.csv, the rest without the SRv6 rows
		mv "$csv" "$out/$base-srv6.csv"
		awk -F, 'NR == 1 || $5 !~ /^srv6/' "$out/$base-srv6.csv" > "$csv"
		$PY "$here/lab/srv6_report.py" --csv "$out/$base-srv6.csv" --base "$base-srv6" "${rep_args[@]}"
	fi
	[ -z "$labels$nsh" ] || $PY "$here/lab_report.py" --csv "$csv" --base "$base" "${rep_args[@]}"
	[ -n "$qtmp" ] && echo "quick-run results kept in $qtmp"
	return 0
}

(($# >= 1)) || usage
[ "$(id -u)" = 0 ] || die "needs root"
verb="$1"; shift
case "$verb" in
setup)
	(($# >= 1)) || usage
	name="$1"; shift; vnf=kernel; mode=none
	while [ $# -gt 0 ]; do
		case "$1" in
		--vnf) vnf="$2"; shift ;;
		--mode) mode="$2"; shift ;;
		*) die "setup: unknown argument $1" ;;
		esac
		shift
	done
	case "$vnf" in kernel|tun|sidecar) ;; *) die "--vnf kernel|tun|sidecar" ;; esac
	case "$mode" in none|floor|static|ovs|metadata|header-hash|kernel-srv6) ;; *) die "--mode none|floor|static|ovs|metadata|header-hash|kernel-srv6" ;; esac
	[ -e "/tmp/vmlab-$name" ] && die "lab $name exists (run: $0 teardown $name)"
	trap 'rc=$?; ((rc == 0)) || lab_down "'"$name"'"' EXIT
	lab_up "$name" "$vnf"
	attach_mode "$mode"
	trap - EXIT
	cat "$st/env"
	echo "MODE=$mode"
	echo "STATE=$st"
	;;
exec)
	(($# >= 3)) || usage
	name="$1"; node="$2"; shift 2
	case "$node" in sender) node=snd ;; proxy) node=prx ;; receiver) node=rcv ;; esac
	exec "$topo" exec "$name" "$node" "$@"
	;;
teardown)
	(($# == 1)) || usage
	lab_down "$1"
	;;
bench) bench "$@" ;;
bench-tcp) . "$here/lab/tcp.sh"; bench_tcp "$@" ;;   # TCP Gbit/s with iperf3: see vm-lab/lab/tcp.sh
bench-dsr) exec "$here/lab/dsr.sh" "$@" ;;
*) usage ;;
esac
