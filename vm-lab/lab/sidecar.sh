# shellcheck shell=bash
# Sidecar layout for vm-lab/lab.sh (sourced): the VNF in its own network namespace behind the
# proxy (tests/e2e/topology.sh --sidecar-vnf). SfcProxy's xdp_rx XDP_REDIRECTs popped packets
# through its devmap (Interfaces:Vnf) to the veth NAMEv; the VNF namespace forwards them (kernel IP
# forwarding through the iptables chain SFCVNF) out of NAMEx back into the proxy namespace (NAMEy),
# which routes them out of the egress, where tc_tx restores the stack.
#
# Floor: the same wiring with programs that do nothing SFC-specific: lab.bpf.c:redirect on the
# ingress (native XDP, every frame XDP_REDIRECTed through a one-slot devmap to NAMEv, as xdp_rx
# does, without parsing) and the empty tc program on the egress. Plain UDP, as the kernel floor.

# The floor's datapath ($st, the topology env and the tools are loaded by lab.sh).
sidecar_attach_floor() {
	ip netns exec "$PRX_NS" "$st/trafgen" redirect "$st/lab.bpf.o" "$PRX_IN" "$VNF_IF"
	ip netns exec "$PRX_NS" tc qdisc add dev "$PRX_OUT" clsact
	ip netns exec "$PRX_NS" tc filter add dev "$PRX_OUT" egress bpf direct-action obj "$st/empty_tc.bpf.o" sec tc
}

# NS:DEV of the four VNF veths, for the offloads line ("" outside the sidecar layout).
sidecar_devices() {
	[ "${VNF:-}" = sidecar ] && echo "$PRX_NS:$VNF_IF $VNF_NS:$VNF_IN $VNF_NS:$VNF_OUT $PRX_NS:$VNF_BACK"
	return 0
}

# The Interfaces:Vnf member of the SfcProxy config ("" outside the sidecar layout).
sidecar_vnf_json() {
	[ "${VNF:-}" = sidecar ] && printf ', "Vnf": "%s"' "$VNF_IF"
	return 0
}
