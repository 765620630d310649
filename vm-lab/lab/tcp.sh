# shellcheck shell=bash
# `vm-lab/lab.sh bench-tcp`: TCP Gbit/s through the chain against the number of labels (issue 5).
# Sourced by lab.sh (uses its lab_up / lab_down / attach_mode / detach_mode, $st, $here, $PY, die).
#
#   vm-lab/lab.sh bench-tcp [--quick] [--vnf kernel|tun] [--labels LIST] [--nsh LIST] [--repeats N]
#                           [--seconds S] [--warmup S] [--systems LIST] [--decap xdp|xdpgeneric]
#                           [--cc ALGO] [--gso-max-segs N] [--out DIR]
#
# Sender: iperf3 client (CPU 0) with vm-lab/lab/tcp_encap.bpf.c at tc egress of its veth, pushing
# N labels (or an NSH header) on every IPv4 packet. Proxy: the same attach_mode as the pps bench
# (floor: empty XDP + empty tc programs; metadata / header-hash: sfcproxy run) and the kernel VNF.
# Receiver: vm-lab/lab/tcp_decap.bpf.c (XDP) counts what arrives and strips the labels / NSH the
# proxy restored; the iperf3 server (CPU 1) sees plain TCP. ACKs go back plain through the proxy's
# kernel forwarding (receiver -> proxy egress veth -> proxy ingress veth -> sender): no SfcProxy
# program is on that path (xdp_rx sits on the ingress veth's receive side, tc_tx on the egress
# veth's transmit side) and no encap program either (it is on the sender's egress only).
# The floor: same topology and sender settings, the encap program attached but built to push
# nothing, the decap program attached, empty programs where SfcProxy's sit.
# Defaults: systems floor metadata header-hash (--vnf tun: floor header-hash), labels 1 4 8 16,
# NSH nsh1 nsh2-64, 5 repeats of
# 5 s after a 1 s warm-up (iperf3 --omit), congestion control cubic (named, not the host's default:
# this machine's is bbr, whose pacing timer fires per 1-segment skb: 0.31 against cubic's 0.43 Gbit/s
# on the floor); writes DIR/lab-tcp.{csv,png,md} (default
# vm-lab/results; --quick: a temp dir, 1 repeat of 1 s at 1 and 16 labels and nsh1, no warm-up).
# --gso-max-segs N: the sender veth's gso_max_segs (default 1, the issue's setting). With more, the
# encap program sees whole GSO skbs (one push per up to 64 KB); since the sender veth has no TSO while
# the proxy ingress has a native XDP program, the sender's software GSO then cuts them after the
# encap and copies the pushed headers into every segment, so the proxy still sees one packet per
# segment (files lab-tcp-gsoN.*).
# --vnf tun: the user-mode VNF (tests/e2e/tun_vnf.py on a TUN, CPU 1, as `bench --vnf tun` starts it,
# txqueuelen 2048) instead of the kernel VNF; systems floor and header-hash (the metadata key cannot
# cross user space); files lab-tcp-tun.*. TCP needs no pacing: its congestion control backs off
# when the TUN queue overflows. CPU ns/segment adds the VNF process's CPU time (its TUN writes run
# the second half of the chain, up to the receiver, in its context).

TCP_MTU=1600       # every lab veth: room for 16 labels / NSH MD2 on top of a 1500-byte IP packet
TCP_PATH_MTU=1500  # the sender's and receiver's routes: TCP segments stay 1500-byte IP packets

# The encap variants: one object per encapsulation (tc loads an object as it is; no map to fill).
tcp_build() {   # $1 list of encaps (0 = push nothing, N labels, nsh1, nsh2-V)
	local inc="/usr/include/$(uname -m)-linux-gnu" e d
	for e in $1; do
		case "$e" in
		nsh1) d=(-DENCAP_NSH=1) ;;
		nsh2) d=(-DENCAP_NSH=2 -DNSH_TLV=-1) ;;
		nsh2-*) d=(-DENCAP_NSH=2 "-DNSH_TLV=${e#nsh2-}") ;;
		*) d=("-DENCAP_LABELS=$e") ;;
		esac
		clang -O2 -g -Wall -target bpf -I"$inc" "${d[@]}" -c "$here/lab/tcp_encap.bpf.c" -o "$st/encap-$e.bpf.o"
	done
	clang -O2 -g -Wall -target bpf -I"$inc" -c "$here/lab/tcp_decap.bpf.c" -o "$st/tcp_decap.bpf.o"
}

# Turns the pps lab into the TCP lab (why each setting: WHY in tcp_report.py, and the README).
tcp_prepare() {   # $1 decap attach mode: xdp (native) | xdpgeneric, $2 the sender's gso_max_segs
	local S=(ip netns exec "$SND_NS") P=(ip netns exec "$PRX_NS") R=(ip netns exec "$RCV_NS")
	"${S[@]}" ip link set dev "$SND_IF" mtu "$TCP_MTU"
	"${P[@]}" ip link set dev "$PRX_IN" mtu "$TCP_MTU"
	"${P[@]}" ip link set dev "$PRX_OUT" mtu "$TCP_MTU"
	"${R[@]}" ip link set dev "$RCV_IF" mtu "$TCP_MTU"
	"${S[@]}" ip route change default via 198.18.1.2 dev "$SND_IF" mtu "$TCP_PATH_MTU" advmss $((TCP_PATH_MTU - 40))
	"${R[@]}" ip route change default via 198.18.2.2 dev "$RCV_IF" mtu "$TCP_PATH_MTU" advmss $((TCP_PATH_MTU - 40))
	# 1 (default): one TCP segment per skb; TCP builds multi-segment GSO skbs even with tso/gso off.
	# More: GSO skbs reach the encap program whole (see --gso-max-segs).
	"${S[@]}" ip link set dev "$SND_IF" gso_max_segs "$2"
	# topology.sh drops TCP at the receiver (its e2e receiver only observes); iperf3 needs it.
	"${R[@]}" iptables -t raw -F PREROUTING
	"${R[@]}" ip link set dev "$RCV_IF" "$1" obj "$st/tcp_decap.bpf.o" sec xdp
	"${S[@]}" tc qdisc add dev "$SND_IF" clsact
	"${R[@]}" iperf3 -s -D -A 1 -B "$RCV_IP4" -I "$st/iperf3.pid"
	for _ in $(seq 50); do [ -s "$st/iperf3.pid" ] && break; sleep 0.1; done
}
tcp_encap() {   # $1 encap (0 = the floor's empty encap)
	ip netns exec "$SND_NS" tc filter replace dev "$SND_IF" egress pref 1 handle 1 bpf direct-action \
		obj "$st/encap-$1.bpf.o" sec tc
}

# The offloads that matter for TCP, per lab interface (printed and written to the markdown, where
# tcp_report.py says why each is set).
tcp_offloads() {
	local ns_dev ns dev
	for ns_dev in "$SND_NS:$SND_IF" "$PRX_NS:$PRX_IN" "$PRX_NS:$PRX_OUT" "$RCV_NS:$RCV_IF" ${TUN_IF:+"$PRX_NS:$TUN_IF"}; do
		ns="${ns_dev%%:*}"; dev="${ns_dev#*:}"
		printf '%s: %s mtu=%s gso_max_segs=%s; ' "$dev" "$(ip netns exec "$ns" ethtool -k "$dev" | awk '
			/^(tx-checksumming|tcp-segmentation-offload|generic-segmentation-offload|generic-receive-offload):/ {
				sub(":", "", $1); n = $1; sub("tcp-segmentation-offload", "tso", n); sub("generic-segmentation-offload", "gso", n)
				sub("generic-receive-offload", "gro", n); sub("tx-checksumming", "tx-csum", n); printf "%s=%s ", n, $2 }')" \
			"$(ip netns exec "$ns" cat "/sys/class/net/$dev/mtu")" \
			"$(ip netns exec "$ns" ip -d link show dev "$dev" | grep -o 'gso_max_segs [0-9]*' | cut -d' ' -f2)"
	done
	[ -z "${TUN_IF:-}" ] || printf '%s: txqueuelen=%s; ' "$TUN_IF" "$(ip netns exec "$PRX_NS" cat "/sys/class/net/$TUN_IF/tx_queue_len")"
}

# CPU ticks (utime + stime) of the user-mode VNF process; 0 with the kernel VNF.
tcp_vnf_ticks() {
	local p; p="$(cat "$st/vnf.pid" 2>/dev/null || true)"
	if [ -z "$p" ] || [ ! -r "/proc/$p/stat" ]; then echo 0; return; fi
	awk '{print $14 + $15}' "/proc/$p/stat"
}

# Frames seen by the receiver's decap program, by kind, as JSON {"kind": count} (summed over CPUs).
tcp_seen() {
	local prog map
	prog="$(ip netns exec "$RCV_NS" ip -j link show dev "$RCV_IF" | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["xdp"]["prog"]["id"])')"
	map="$(bpftool prog show id "$prog" -j | $PY -c 'import json,sys; print(json.load(sys.stdin)["map_ids"][0])')"
	bpftool map dump id "$map" -j | $PY -c '
import json, sys
def num(x):
    return x if isinstance(x, int) else int.from_bytes(bytes(int(b, 16) for b in x), "little")
out = {}
for e in json.load(sys.stdin):
    v = sum(num(c["value"]) for c in e["values"])
    if v:
        out[str(num(e["key"]))] = v
print(json.dumps(out, separators=(",", ":")))'
}

# One iperf3 run: prints "gbps retransmits snd_cpu rcv_cpu cpu_ns_per_segment vnf_cpu_s by_kind_json".
# by_kind: frames the receiver saw during the run, including the warm-up and iperf3's control
# connection. cpu_ns_per_segment: CPU time of the iperf3 client and server (iperf3's own figures;
# tick-based accounting charges the softirq work that runs in their context to them: the client's
# write runs the whole chain up to the server's socket) over the segments sent. Unlike Gbit/s it
# does not fall when other work on the machine takes the CPUs away. ksoftirqd is left out (unlike
# the pps bench): on a shared machine it mostly runs other work's packets. With the user-mode VNF
# it adds the VNF process's CPU time (vnf_cpu_s, the whole run; scaled to the measured seconds).
tcp_measure() {   # $1 warmup s, $2 seconds, $3 congestion control
	local s0 s1 v0 v1 j="$st/iperf3.json"
	s0="$(tcp_seen)"; v0="$(tcp_vnf_ticks)"
	ip netns exec "$SND_NS" timeout $(($1 + $2 + 20)) iperf3 -c "$RCV_IP4" -t "$2" -O "$1" -C "$3" -A 0 -J > "$j" || true
	s1="$(tcp_seen)"; v1="$(tcp_vnf_ticks)"
	$PY - "$j" "$s0" "$s1" "$(awk -v d="$((v1 - v0))" -v t="$(getconf CLK_TCK)" 'BEGIN{print d / t}')" "$1" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
    e = r["end"]
    bps, retr = e["sum_received"]["bits_per_second"], e["sum_sent"].get("retransmits", 0)
    cpu = e.get("cpu_utilization_percent", {})
    snd, rcv = cpu.get("host_total", 0), cpu.get("remote_total", 0)
    mss = r["start"].get("tcp_mss_default", 1448) or 1448
    segs = e["sum_sent"]["bytes"] / mss
    secs = e["sum_sent"]["seconds"]
    vnf = float(sys.argv[4]) * secs / (secs + float(sys.argv[5]))   # the VNF's CPU over the measured part
    ns_seg = 1e9 * ((snd + rcv) / 100 * secs + vnf) / segs if segs else 0
except (ValueError, KeyError):
    bps, retr, snd, rcv, ns_seg = 0, -1, 0, 0, 0   # iperf3 failed (its JSON says why; kept in the state dir)
a, b = json.loads(sys.argv[2]), json.loads(sys.argv[3])
d = {k: b[k] - a.get(k, 0) for k in b if b[k] - a.get(k, 0)}
print(f"{bps / 1e9:.4f} {retr} {snd:.0f} {rcv:.0f} {ns_seg:.0f} {float(sys.argv[4]):.2f} {json.dumps(d, separators=(',', ':'))}")
PY
}

bench_tcp() {
	local quick=0 labels="1 4 8 16" nsh="nsh1 nsh2-64" repeats=5 secs=5 warm=1 systems="" vnf=kernel
	local out="" decap=xdp cc=cubic gso=1 cmdline="vm-lab/lab.sh bench-tcp${*:+ $*}"
	while [ $# -gt 0 ]; do
		case "$1" in
		--quick) quick=1; labels="1 16"; nsh="nsh1"; repeats=1; secs=1; warm=0 ;;
		--labels) labels="${2//,/ }"; shift ;;
		--nsh) nsh="${2//,/ }"; shift ;;
		--repeats) repeats="$2"; shift ;;
		--seconds) secs="$2"; shift ;;
		--warmup) warm="$2"; shift ;;
		--systems) systems="${2//,/ }"; shift ;;
		--decap) decap="$2"; shift ;;
		--cc) cc="$2"; shift ;;
		--gso-max-segs) gso="$2"; shift ;;
		--vnf) vnf="$2"; shift ;;
		--out) out="$2"; shift ;;
		*) die "bench-tcp: unknown argument $1" ;;
		esac
		shift
	done
	case "$vnf" in
	kernel) [ -n "$systems" ] || systems="floor metadata header-hash" ;;
	tun) [ -n "$systems" ] || systems="floor header-hash"
		[[ " $systems " != *" metadata "* ]] || die "the metadata key does not survive a VNF outside the proxy's stack (--vnf tun)" ;;
	*) die "--vnf kernel|tun" ;;
	esac
	for s in $systems; do case "$s" in floor|metadata|header-hash) ;; *) die "system $s (floor|metadata|header-hash)" ;; esac; done
	for l in $labels; do [[ "$l" =~ ^[0-9]+$ ]] && [ "$l" -ge 1 ] && [ "$l" -le 16 ] || die "labels 1..16"; done
	# nsh2-V: up to 88 value bytes, so 8 + 4 + V fits in the 100 bytes TCP_MTU leaves above 1500
	for l in $nsh; do [[ "$l" =~ ^nsh(1|2|2-[0-9]+)$ ]] && { [[ "$l" != nsh2-* ]] || [ "${l#nsh2-}" -le 88 ]; } ||
		die "--nsh: nsh1, nsh2 or nsh2-V (V <= 88)"; done
	[[ "$secs" =~ ^[1-9][0-9]*$ && "$warm" =~ ^[0-9]+$ ]] || die "--seconds and --warmup: whole seconds (iperf3)"
	case "$decap" in xdp|xdpgeneric) ;; *) die "--decap xdp|xdpgeneric" ;; esac
	[[ "$gso" =~ ^[1-9][0-9]*$ && "$gso" -le 65535 ]] || die "--gso-max-segs 1..65535"
	command -v iperf3 >/dev/null || die "missing iperf3 (apt-get install -y iperf3)"
	command -v bpftool >/dev/null || die "missing bpftool"
	$PY -c 'import matplotlib' 2>/dev/null || die "missing python3-matplotlib (apt-get install -y python3-matplotlib)"
	if [[ " $systems " == *" metadata "* || " $systems " == *" header-hash "* ]] && [ ! -f "$dll" ]; then
		echo "note: no SfcProxy build ($dll): measuring the floor only (dotnet build SfcProxy/SfcProxy.csproj)"
		systems="floor"
	fi
	local name; name="vt$(printf '%04x%02x' $(($$ % 65536)) $((RANDOM % 256)))"
	local qtmp=""
	if [ -z "$out" ]; then
		if [ "$quick" = 1 ]; then qtmp="$(mktemp -d /tmp/vmlab-tcp-quick.XXXXXX)"; out="$qtmp"; else out="$here/results"; fi
	fi
	mkdir -p "$out"
	trap 'lab_down "'"$name"'"' EXIT
	trap 'exit 130' INT TERM
	lab_up "$name" "$vnf"   # tun: starts tun_vnf.py (vm-lab/lab/tun.sh: tun_start_vnf, txqueuelen 2048)
	tcp_build "0 $labels $nsh"
	tcp_prepare "$decap" "$gso"
	local base=lab-tcp; [ "$vnf" = kernel ] || base+="-$vnf"; [ "$gso" = 1 ] || base+="-gso$gso"
	local csv="$out/$base.csv"
	echo "run_id,utc,system,encap,labels,rep,gbps,retransmits,snd_cpu_pct,rcv_cpu_pct,cpu_ns_per_seg,expected_kind,ok_share,by_kind,decap,cc,gso_max_segs,load1,vnf,vnf_cpu_s" > "$csv"
	local per=0 total
	for s in $systems; do if [ "$s" = floor ]; then per=$((per + 1)); else for _ in $labels $nsh; do per=$((per + 1)); done; fi; done
	total=$((per * repeats))
	echo "lab-bench-tcp $name: systems [$systems], labels [$labels], NSH [$nsh], $repeats x ${secs}s (+${warm}s warm-up) per point, $vnf VNF, decap $decap, congestion control $cc, sender gso_max_segs $gso"
	echo "results -> $out"
	local start=$SECONDS k=0 offl=""
	for r in $(seq 1 "$repeats"); do
		for s in $systems; do
			attach_mode "$s"
			# Read with the proxy's XDP program attached: a veth drops TSO when its peer has one.
			[ -n "$offl" ] || { offl="$(tcp_offloads)"; echo "offloads ($s attached): $offl"; }
			local ls="$labels $nsh"; [ "$s" = floor ] && ls=0
			for l in $ls; do
				k=$((k + 1))
				local el=$((SECONDS - start)) eta="?"
				[ "$k" -gt 1 ] && eta=$((el * (total - k + 1) / (k - 1)))
				local exp enc=mpls nl="$l"
				case "$l" in nsh*) exp=18; enc="$l"; nl=0 ;; *) exp=$((l > 0 ? l - 1 : 0)) ;; esac
				printf '[%2d/%d] rep %d %-11s %-9s elapsed %3ds  ETA %ss  ' "$k" "$total" "$r" "$s" \
					"$([ "$enc" = mpls ] && echo "labels=$l" || echo "$l")" "$el" "$eta"
				tcp_encap "$l"
				local gbps retr sc rc cns vc by ok
				read -r gbps retr sc rc cns vc by <<< "$(tcp_measure "$warm" "$secs" "$cc")"
				ok="$($PY -c 'import json,sys; b=json.loads(sys.argv[1]); n=sum(b.values()); print("%.4f" % (b.get(sys.argv[2], 0) / n if n else 0))' "$by" "$exp")"
				printf '%7.3f Gbit/s, %s retransmits, CPU %s%% / %s%% (sender / receiver), %6d CPU ns/segment, %s %s\n' \
					"$gbps" "$retr" "$sc" "$rc" "$cns" "$ok" \
					"$([ "$exp" = 18 ] && echo "NSH" || echo "with $exp labels")"
				echo "$name,$(date -u +%FT%TZ),$s,$enc,$nl,$r,$gbps,$retr,$sc,$rc,$cns,$exp,$ok,\"${by//\"/\"\"}\",$decap,$cc,$gso,$(cut -d' ' -f1 /proc/loadavg),$vnf,$vc" >> "$csv"
			done
			detach_mode
		done
	done
	local el=$((SECONDS - start))
	echo "measured $total points in ${el}s"
	[ "$vnf" != tun ] || echo "VNF: $(kill -TERM "$(cat "$st/vnf.pid")" 2>/dev/null; sleep 0.5; tail -1 "$st/vnf.log")"
	$PY "$here/lab/tcp_report.py" --csv "$csv" --out "$out" --base "$base" --command "$cmdline" --seconds "$el" \
		--kernel "$(uname -r)" --cpus "$(nproc)" --offloads "$offl"
	[ -n "$qtmp" ] && echo "quick-run results kept in $qtmp"
	return 0
}
