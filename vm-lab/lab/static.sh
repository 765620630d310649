# shellcheck shell=bash
# The lab's static proxy (system static): the least a proxy of SfcProxy's hook design can do, the
# job's own limit in the lab as `sfcproxy bench`'s "static" column is on one core. The benchmark's
# two programs sit exactly where SfcProxy's do: bpf/bench/static_pop.bpf.c native XDP on PRX_IN
# (pops the label stack, the NSH header or the outer IPv6 + SRH with bpf_xdp_adjust_head, no
# cache, no counters), the same kernel VNF forwards the plain packet, and
# bpf/bench/static_push.bpf.c at tc egress (clsact) on PRX_OUT pushes one constant header from its
# map (bpf_skb_change_head + one bpf_skb_store_bytes), the one SfcProxy restores at that point
# (vm-lab/lab/static_hdr.py: labels 16001.. with the top TTL 63; NSH SI 254 TTL 62; SRv6 as End.AD
# emits it), so the receiver's check judges it as it judges SfcProxy. Sourced by vm-lab/lab.sh;
# uses its globals ($st, the topology env, $PY). The header is set per point (static_point), as
# kernel_srv6.sh sets its route and ovs.sh its flows: a static proxy is configured for one stack.
#
# Loaded as the floor's empty programs are (ip link / tc, objects built into $st); no pins: the
# header map is found through the tc program's map ids (its id in $st/static.map) and lives as
# long as the filter, so detach (XDP off, clsact deleted) removes everything.

static_attach() {
	local p="ip netns exec $PRX_NS" prog map
	$p ip link set dev "$PRX_IN" xdpdrv obj "$st/static_pop.bpf.o" sec xdp
	$p tc qdisc add dev "$PRX_OUT" clsact
	$p tc filter add dev "$PRX_OUT" egress bpf direct-action obj "$st/static_push.bpf.o" sec tc
	prog="$($p tc filter show dev "$PRX_OUT" egress | sed -n 's/.* id \([0-9][0-9]*\) .*/\1/p' | head -1)"
	[ -n "$prog" ] || die "static: no static_push program on $PRX_OUT"
	map="$(bpftool prog show id "$prog" | sed -n 's/.*map_ids \([0-9,]*\).*/\1/p' | tr , '\n' |
		while read -r m; do bpftool map show id "$m" | grep -q ' name static_push_hdr ' && echo "$m"; done | head -1)"
	[ -n "$map" ] || die "static: no static_push_hdr map on program $prog"
	echo "$map" > "$st/static.map"
	static_point 1
}

static_point() {   # $1 the point (N labels, nsh1, nsh2[-V], srv6-N[-t]): the header restored for it
	local v
	v="$($PY "$here/lab/static_hdr.py" "$1")" || die "static: no header for $1"
	# shellcheck disable=SC2086   # the value's bytes, one argument each
	bpftool map update id "$(cat "$st/static.map")" key hex 00 00 00 00 value hex $v
}

static_detach() {
	local p="ip netns exec $PRX_NS"
	$p ip link set dev "$PRX_IN" xdpdrv off 2>/dev/null || true
	$p tc qdisc del dev "$PRX_OUT" clsact 2>/dev/null || true
	rm -f "$st/static.map"
}
