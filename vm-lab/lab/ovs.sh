# shellcheck shell=bash
# The lab's static-proxy baseline (issue 5, baseline b): Open vSwitch, userspace datapath
# (datapath_type=netdev; this kernel has no openvswitch module), popping the encapsulation before
# the VNF and pushing a fixed one after it, as an operator would configure a static proxy today.
# Sourced by vm-lab/lab.sh; uses its globals ($st, $NAME and the topology env).
#
# Wiring, all inside the proxy namespace:
#
#   sender -> PRX_IN ==OVS port 1==> pop all labels (or decap NSH) ==port 3==> NAMEa (OVS internal
#   port = a tap into the proxy's kernel stack) -> kernel VNF: IP forwarding through the iptables
#   chain SFCVNF, exactly the hop the other systems use; a host route in the main table sends the
#   receiver's address out of NAMEb -> NAMEb (OVS internal port 4) ==> push
#   the fixed stack, source MAC = PRX_OUT ==port 2==> PRX_OUT -> receiver.
#
# Two internal ports (a VNF with an in leg and an out leg) rather than one hairpin port: the kernel
# forwards from one interface to another as it does for the other systems (no ICMP redirects, no
# same-interface special case), and the addresses and connected routes of PRX_IN / PRX_OUT stay
# as they are, so the other systems run unchanged in the same lab after detach. PRX_IN carries the
# same empty XDP program as the floor: the generator's XDP frames need a NAPI receiver on the veth.
#
# Everything OVS keeps (database, sockets, pid and log files) lives in $st/ovs; both daemons run in
# the proxy namespace, pinned to CPU 1 (the generator owns CPU 0), started on attach and killed on
# detach. No system-wide ovsdb-server / ovs-vswitchd is used or needed (scripts/setup.sh stops and
# disables the package's own service).
#
# Limits of the baseline, both OVS's, not the lab's: OVS parses at most 3 MPLS label stack entries
# (FLOW_MAX_MPLS_LABELS) and cannot pop or push beyond that ("dropping packet on which an MPLS pop
# action can't be performed as it has more MPLS LSEs than the 3 supported"), so the static proxy
# is measured at 1..3 labels only; NSH decap/encap recirculates inside OVS. IPv4 only (the bench
# sends IPv4): the VNF's out-leg route is the receiver's IPv4 address.
#
# By hand: `lab.sh setup lab1 --mode ovs` (1-label flows), then
#   OVS_RUNDIR=/tmp/vmlab-lab1/ovs ovs-ofctl -O OpenFlow13 dump-flows lab1o
#
# No policy routing (ip rule) for the out leg: the first rule added to a namespace sets its
# fib_has_custom_rules for good, and from then on every forwarded packet takes the slower rules
# path (measured: the floor's 555 k pps fell to 430 k after one rule was added and deleted), which
# would slow every system measured after OVS in the same lab. A /32 host route in the main table,
# gone with NAMEb on detach, does the same job during the OVS points only.

# The veth ports' type: system (default: AF_PACKET, polled by ovs-vswitchd's main thread, what an
# operator gets without tuning) or afxdp (AF_XDP sockets in native XDP mode, copy mode since veth
# has no zero-copy, polled by a PMD thread that busy-polls CPU 1: OVS's fast userspace path).
LAB_OVS_PORTS="${LAB_OVS_PORTS:-system}"

ovs_available() {
	command -v ovs-vswitchd >/dev/null && command -v ovsdb-server >/dev/null &&
		command -v ovs-vsctl >/dev/null && command -v ovs-ofctl >/dev/null
}

# The encapsulations (bench point names: label counts, nsh1, nsh2-V) OVS can proxy statically.
# NSH MD2: up to 240 bytes of metadata (a 248-byte header, nsh2-232). At the 252-byte maximum
# (244 bytes of metadata, nsh2-233..236) ovs-vswitchd aborts when it installs the push: "assertion
# encap_data->size < NSH_CTX_HDRS_MAX_LEN failed in odp_put_push_nsh_action()" (OVS 3.1; the
# constant is 244, so '<' refuses the one size that fills NSH's Length).
ovs_supports() {   # $1 point
	case "$1" in
	1|2|3|nsh1|nsh2) return 0 ;;
	nsh2-*) [ "${1#nsh2-}" -le 232 ] ;;
	*) return 1 ;;
	esac
}

ovs_env() { env OVS_RUNDIR="$st/ovs" OVS_LOGDIR="$st/ovs" OVS_DBDIR="$st/ovs" OVS_SYSCONFDIR="$st/ovs" "$@"; }
ovs_vsctl() { ovs_env ovs-vsctl --db="unix:$st/ovs/db.sock" --timeout=10 "$@"; }
ovs_ofctl() { ovs_env ovs-ofctl -O OpenFlow13 "$@"; }
ovs_prx() { ip netns exec "$PRX_NS" "$@"; }

ovs_attach() {
	ovs_available || die "Open vSwitch is not installed (scripts/setup.sh installs openvswitch-switch)"
	case "$LAB_OVS_PORTS" in system|afxdp) ;; *) die "LAB_OVS_PORTS: system|afxdp" ;; esac
	[ "${VNF:-kernel}" = kernel ] || die "the ovs system is wired for the kernel VNF only"
	local d="$st/ovs" br="${NAME}o" cpu=() mask=0x1
	[ "$(nproc)" -gt 1 ] && cpu=(taskset -c 1) && mask=0x2
	mkdir -p "$d"
	ovs_env ovsdb-tool create "$d/conf.db" /usr/share/openvswitch/vswitch.ovsschema
	ip netns exec "$PRX_NS" "${cpu[@]}" env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" OVS_SYSCONFDIR="$d" \
		ovsdb-server "$d/conf.db" --remote="punix:$d/db.sock" --unixctl="$d/ovsdb-server.ctl" \
		--log-file="$d/ovsdb-server.log" --no-chdir > "$d/ovsdb-server.out" 2>&1 &
	echo $! > "$d/ovsdb-server.pid"
	for _ in $(seq 100); do [ -S "$d/db.sock" ] && break; sleep 0.05; done
	[ -S "$d/db.sock" ] || { cat "$d/ovsdb-server.out" >&2; die "ovsdb-server not ready"; }
	ovs_vsctl --no-wait init
	ip netns exec "$PRX_NS" "${cpu[@]}" env OVS_RUNDIR="$d" OVS_LOGDIR="$d" OVS_DBDIR="$d" OVS_SYSCONFDIR="$d" \
		ovs-vswitchd "unix:$d/db.sock" --unixctl="$d/ovs-vswitchd.ctl" \
		--log-file="$d/ovs-vswitchd.log" --no-chdir > "$d/ovs-vswitchd.out" 2>&1 &
	echo $! > "$d/ovs-vswitchd.pid"
	for _ in $(seq 100); do [ -S "$d/ovs-vswitchd.ctl" ] && break; sleep 0.05; done
	[ -S "$d/ovs-vswitchd.ctl" ] || { cat "$d/ovs-vswitchd.out" >&2; die "ovs-vswitchd not ready"; }
	# fail-mode secure: nothing but our flows (no NORMAL learning switch behind them).
	ovs_vsctl add-br "$br" -- set bridge "$br" datapath_type=netdev protocols=OpenFlow13 fail-mode=secure \
		-- add-port "$br" "$PRX_IN" -- set interface "$PRX_IN" ofport_request=1 \
		-- add-port "$br" "$PRX_OUT" -- set interface "$PRX_OUT" ofport_request=2 \
		-- add-port "$br" "${NAME}a" -- set interface "${NAME}a" type=internal ofport_request=3 \
		-- add-port "$br" "${NAME}b" -- set interface "${NAME}b" type=internal ofport_request=4
	ovs_prx ip link set dev "${NAME}a" up
	ovs_prx ip link set dev "${NAME}b" up
	ovs_prx ip route add "$RCV_IP4/32" dev "${NAME}b"
	ovs_prx ip neigh replace "$RCV_IP4" lladdr "$RCV_MAC" nud permanent dev "${NAME}b"
	if [ "$LAB_OVS_PORTS" = afxdp ]; then   # OVS loads its own XDP program (redirect to the socket)
		ovs_vsctl set Open_vSwitch . other_config:pmd-cpu-mask=$mask \
			-- set interface "$PRX_IN" type=afxdp options:xdp-mode=native \
			-- set interface "$PRX_OUT" type=afxdp options:xdp-mode=native
		[ "$(ovs_vsctl get interface "$PRX_IN" ofport)" = 1 ] || die "ovs: afxdp port $PRX_IN failed (see $d/ovs-vswitchd.log)"
	else
		ovs_prx ip link set dev "$PRX_IN" xdpdrv obj "$st/empty_xdp.bpf.o" sec xdp
	fi
	ovs_flows 1
}

# Replaces the bridge's flows with the static proxy for one encapsulation: what the bench sends
# (N labels 16000.., or NSH SPI 42 SI 255) is stripped to plain IPv4 for the VNF, and what the VNF
# forwards gets the fixed stack SfcProxy restores with ConsumedSegments 1: labels 16001..16000+N-1
# (N-1 entries, none at N=1), or NSH SPI 42 SI 254 TTL 62 with the same MD type.
ovs_flows() {   # $1 point
	ovs_supports "$1" || die "ovs: $1 is beyond what OVS can proxy (at most 3 labels; NSH up to 248 bytes)"
	local br="${NAME}o" a_mac match in=() out=() i
	a_mac="$(ovs_prx cat "/sys/class/net/${NAME}a/address")"
	case "$1" in
	nsh*)
		local md=1 tlv=""
		if [ "$1" != nsh1 ]; then
			md=2
			if [[ "$1" == nsh2-* ]]; then   # the generator's TLVs: class 0x0102, type 3, V bytes
				local v="${1#nsh2-}" n hex   # in TLVs of at most 124 value bytes, as trafgen.c
				while :; do
					n=$((v > 124 ? 124 : v)); hex=""
					for ((i = 0; i < n; i++)); do hex+=5a; done
					[ -z "$hex" ] || tlv+=",tlv(0x0102,3,0x$hex)"   # (nsh2-0: no TLV, as before)
					((v > 124)) || break
					v=$((v - 124))
				done
			fi
		fi
		# decap() twice: Ethernet, then NSH (OVS recirculates there); encap(ethernet) for the tap.
		in=("decap()" "decap()" "encap(ethernet)" "set_field:$PRX_IN_MAC->eth_src")
		out=("decap()" "encap(nsh(md_type=$md$tlv))" "set_field:42->nsh_spi" "set_field:254->nsh_si"
			"set_field:62->nsh_ttl" "encap(ethernet)" "set_field:$RCV_MAC->eth_dst")
		match=0x894f ;;
	*)
		for ((i = 1; i < $1; i++)); do in+=("pop_mpls:0x8847"); done
		in+=("pop_mpls:0x0800")
		# push_mpls puts the new entry on top: push the bottom label first.
		for ((i = $1 - 1; i >= 1; i--)); do out+=("push_mpls:0x8847" "set_field:$((16000 + i))->mpls_label"); done
		match=0x8847 ;;
	esac
	in+=("set_field:$a_mac->eth_dst" "output:3")
	out+=("set_field:$PRX_OUT_MAC->eth_src" "output:2")
	ovs_ofctl del-flows "$br"
	ovs_ofctl add-flow "$br" "in_port=1,dl_type=$match,actions=$(IFS=,; echo "${in[*]}")"
	ovs_ofctl add-flow "$br" "in_port=4,dl_type=0x0800,actions=$(IFS=,; echo "${out[*]}")"
}

# CPU ticks (utime + stime) of ovs-vswitchd, all threads, plus ksoftirqd/1: the static proxy's side
# of the chain runs on CPU 1, not in the generator's softirq. Prints 0 when OVS is not attached.
ovs_ticks() {
	local p; p="$(cat "$st/ovs/ovs-vswitchd.pid" 2>/dev/null || true)"
	if [ -z "$p" ] || [ ! -r "/proc/$p/stat" ]; then echo 0; return; fi
	local k1; k1="$(ps -eo pid=,comm= | awk '$2 == "ksoftirqd/1" {print $1}')"
	awk '{s += $14 + $15} END {print s + 0}' "/proc/$p/stat" ${k1:+"/proc/$k1/stat"}
}

ovs_detach() {
	local d="$st/ovs" p
	ovs_prx ip link set dev "$PRX_IN" xdpdrv off 2>/dev/null || true
	if [ -S "$d/ovs-vswitchd.ctl" ]; then
		# --cleanup: remove the datapath and its ports (the taps are persistent otherwise).
		timeout 10 env OVS_RUNDIR="$d" ovs-appctl --target="$d/ovs-vswitchd.ctl" exit --cleanup >/dev/null 2>&1 || true
	fi
	for f in ovs-vswitchd ovsdb-server; do
		p="$(cat "$d/$f.pid" 2>/dev/null || true)"
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null || true
		# A zombie counts as gone: after `lab.sh setup` the daemons' parent is init, which may reap late.
		for _ in $(seq 50); do
			[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null || echo Z)" != Z ] || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	ovs_prx ip route del "$RCV_IP4/32" dev "${NAME}b" 2>/dev/null || true
	for i in "${NAME}a" "${NAME}b" "${NAME}o" ovs-netdev; do ovs_prx ip link del "$i" 2>/dev/null || true; done
	for i in "$PRX_IN" "$PRX_OUT"; do ovs_prx ip link set dev "$i" promisc off 2>/dev/null || true; done
	rm -rf "$d"
}
