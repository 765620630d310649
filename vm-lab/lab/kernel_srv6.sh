# shellcheck shell=bash
# The lab's SRv6 static-proxy baseline (system kernel-srv6, SRv6 points only): the proxy namespace
# as the static proxy an operator builds today from the kernel's own SRv6 behaviours (RFC 8986,
# net/ipv6/seg6_local.c, seg6_iptunnel.c). Sourced by vm-lab/lab.sh;
# uses its globals ($st and the topology env).
#
#   sender -> PRX_IN -> route to the SID: seg6local End.DX4 (decap, the inner IPv4 routed) -> host
#   route to the receiver's inner address with `encap seg6 mode encap segs <fixed list>` (which
#   takes the packet before IP forwarding and the VNF's chain: below) -> a new outer IPv6 header +
#   SRH to 2001:2:e::1 -> PRX_OUT -> receiver.
#
# The kernel has no End.AS (the draft's static proxy, which decapsulates mid-chain, Segments Left
# > 0): End.DX4 decapsulates only a policy's last segment (seg6_local.c decap_and_validate drops an
# SRH with Segments Left > 0), so with the kernel the chain has to be two SR policies stitched at
# the proxy: the upstream one ends at the SID. kernel-srv6 is therefore sent srv6-N[-t]-sl0
# (trafgen.c): the same bytes on the wire as srv6-N[-t] (N segments, the same TLVs) but with the SID
# as the last segment, Segments Left 0 (tc pedit could rewrite Segments Left on the way in, but this
# kernel is built without act_pedit). HMAC: End.DX4 checks an HMAC TLV unless the interface's
# seg6_require_hmac is -1 (accept mode); the -t frames carry one and nobody in the lab holds the key,
# so kernel-srv6 runs in accept mode (SfcProxy does not check it either).
#
# What it does not do: run the VNF. A route with `encap seg6` takes a forwarded IPv4 packet at route
# input (seg6_iptunnel.c sets LWTUNNEL_STATE_INPUT_REDIRECT), so End.DX4's inner packet is
# encapsulated without ip_forward: no TTL decrement and no FORWARD hook, the iptables chain SFCVNF
# never sees it (its counters stay at 0; the VNF's drop rule would not apply). Measured once by hand
# beside the floor (load1 9): the FORWARD jump to SFCVNF costs about 45 ns per packet; charged with
# it, kernel-srv6 (805..940 ns) is still cheaper than SfcProxy at every point without TLVs (metadata
# 988..1,112, header-hash 1,039..1,144).
#
# How it differs from End.AD (SfcProxy): it is static. The outgoing IPv6 header and SRH are the
# configured ones (a route per inner destination), built from scratch for every packet: the
# packet's own segment list, TLVs, flags, tag, hop limit and flow label are lost, so the
# srv6-N-t points arrive without their TLVs (the receiver's check says so: 0 % arrived as
# expected), and two chains through one SID cannot be told apart. The route is replaced per
# point (one configured segment list per measurement), as ovs.sh replaces its flows.
#
# PRX_IN carries the floor's empty XDP program (the generator's XDP frames need a NAPI receiver on
# the veth), as for ovs. No ip rule (see ovs.sh: a rule slows every later system in the lab).

KSRV6_SID=2001:2:1::100   # srv6_lab.h: LAB_SRV6_SID
KSRV6_SEG=2001:2:e::      # srv6_lab.h: segment i = 2001:2:e::i

kernel_srv6_attach() {
	local p="ip netns exec $PRX_NS"
	$p ip link set dev "$PRX_IN" xdpdrv obj "$st/empty_xdp.bpf.o" sec xdp
	$p sysctl -qw "net.ipv6.conf.$PRX_IN.seg6_require_hmac=-1"
	$p ip -6 route add "$KSRV6_SID/128" encap seg6local action End.DX4 nh4 "$RCV_IP4" dev "$PRX_IN"
	$p ip -6 route add "${KSRV6_SEG}/64" via "${RCV_IP6}" dev "$PRX_OUT"
	$p ip sr tunsrc set 2001:2:2::2   # outer source: the proxy's egress address (topology.sh)
	kernel_srv6_point srv6-1
}

kernel_srv6_point() {   # $1 srv6-N[-t]: the fixed segment list the receiver expects for N
	local n="${1#srv6-}" segs="" i
	n="${n%-t}"
	for i in $(seq 1 "$n"); do segs+="${segs:+,}${KSRV6_SEG}$(printf %x "$i")"; done   # the last group is hex
	ip netns exec "$PRX_NS" ip route replace "$RCV_IP4/32" encap seg6 mode encap segs "$segs" dev "$PRX_OUT"
}

kernel_srv6_detach() {
	local p="ip netns exec $PRX_NS"
	$p ip route del "$RCV_IP4/32" 2>/dev/null || true
	$p ip -6 route del "${KSRV6_SEG}/64" 2>/dev/null || true
	$p ip -6 route del "$KSRV6_SID/128" 2>/dev/null || true
	$p ip sr tunsrc set :: 2>/dev/null || true
	$p sysctl -qw "net.ipv6.conf.$PRX_IN.seg6_require_hmac=0" 2>/dev/null || true
	$p ip link set dev "$PRX_IN" xdpdrv off 2>/dev/null || true
}
