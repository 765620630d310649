#!/usr/bin/env bash
# SfcProxy end-to-end lab topology: three network namespaces joined by two veth pairs.
#
#   NAME-snd                 NAME-prx (proxy host + VNF)                 NAME-rcv
#   [NAMEs] 198.18.1.1 <---> [NAMEi] 198.18.1.2   [NAMEe] 198.18.2.2 <---> [NAMEr] 198.18.2.1
#           2001:2:1::1/64           2001:2:1::2          2001:2:2::2              2001:2:2::1/64
#            (sender)           (ingress: XDP)       (egress: tc)             (receiver)
#
# Usage:
#   topology.sh up NAME [--user-vnf | --sidecar-vnf] [corpus options below]
#                                      create (prints KEY=VALUE lines on stdout)
#   topology.sh down NAME              delete everything (idempotent)
#   topology.sh exec NAME NODE CMD...  run CMD in NAME-NODE (NODE = snd | prx | rcv | vnf)
#   topology.sh burst NAME CPU         after XDP is attached to the ingress: its NAPI threaded, the
#                                      thread pinned to CPU as SCHED_FIFO, so that a sender on CPU running as
#                                      SCHED_FIFO (corpus_traffic.py send --burst-cpu CPU) puts a
#                                      whole burst into the ring before NAPI pops any of it: the
#                                      packets of a burst are inside the VNF together
#
# NAME must be short ([a-z0-9], <= 10 chars) so that interface names (NAME + 1 char) stay <= 15.
#
# Kernel VNF (always present): the proxy namespace forwards IP; iptables/ip6tables FORWARD rules
# count UDP/TCP (chain SFCVNF) and DROP UDP destination port $VNF_DROP_PORT (default 9), so a test
# can show that the VNF really saw the packets (iptables -L SFCVNF -v -x -n). With --user-vnf the
# DROP rule is left out: tun_vnf.py --drop-udp-port does the filtering there.
#
# --user-vnf: adds a TUN device NAMEt in the proxy namespace; policy routing sends everything that
# arrives on the ingress interface into the TUN (table 100) where tun_vnf.py reads it; what the VNF
# writes back into the TUN is routed by the main table out of the egress interface.
#
# --sidecar-vnf: the VNF in its own namespace NAME-vnf, behind the proxy (SfcProxy's
# Interfaces:Vnf = $VNF_IF, i.e. NAMEv):
#   NAME-prx [NAMEv] 198.18.3.2 <---> [NAMEw] 198.18.3.1  NAME-vnf  [NAMEx] 198.18.4.1 <---> [NAMEy] 198.18.4.2 NAME-prx
#   (to the VNF)                      (VNF in: XDP_PASS)            (VNF out)                 (back from the VNF)
#            2001:2:3::2/64                   2001:2:3::1/64                2001:2:4::1/64           2001:2:4::2/64
# The VNF namespace forwards IP through the SFCVNF chain (with the DROP rule); the proxy namespace
# has no SFCVNF chain then. Policy routing sends what arrives on the ingress (and is not
# redirected by XDP) via NAMEv into the VNF; what comes back on NAMEy takes the main table to the
# egress. NAMEw has the proxy ingress' MAC: xdp_rx redirects a popped frame as it arrived, so its
# destination MAC is the ingress', and the VNF's stack must take it as its own. NAMEw carries an
# XDP_PASS program (bpf/bench/empty_xdp.bpf.c; SIDECAR_XDP_OBJ overrides where it is looked for):
# a veth drops XDP_REDIRECTed frames unless its peer runs NAPI, which needs XDP or GRO there, and
# GRO would merge TCP segments after the proxy popped their stacks (an XDP program turns GRO off).
#
# Options for the real-traffic corpus (corpus_traffic.py):
#   --stateful-vnf      the kernel VNF's chain is stateful: SFCVNF drops UDP to $VNF_DROP_PORT, then
#                       accepts `-m conntrack --ctstate NEW,ESTABLISHED` (the proxy namespace then
#                       has conntrack: IPv4/IPv6 fragments are reassembled and refragmented on output)
#   --egress-mtu N      MTU of the proxy egress and the receiver (the link after the proxy)
#   --ingress-mtu N     MTU of the sender and the proxy ingress (room for big headers on big packets)
#   --kube-fwmark       `ip rule fwmark 0x4000/0x4000` to a blackhole table in the proxy namespace,
#                       as kube-proxy marks packets in the host namespace a DaemonSet shares
#   --xor-mark-port P[:BITS]  the VNF changes the mark: mangle FORWARD xors BITS (default 0x10000)
#                       into the mark of UDP to port P (IPv4 and IPv6)
set -euo pipefail

VNF_DROP_PORT="${VNF_DROP_PORT:-9}"
TUN_TABLE=100

die() { echo "topology.sh: $*" >&2; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2
    exit 2
}

check_name() {
    [[ "$1" =~ ^[a-z0-9]{1,10}$ ]] || die "NAME '$1' must match [a-z0-9]{1,10} (interface names are NAME+1 char, <= 15)"
}

ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

nsx() { local ns="$1"; shift; ip netns exec "$ns" "$@"; }

sysctl_ns() { nsx "$1" sysctl -qw "$2=$3" >/dev/null; }

mac_of() { nsx "$1" cat "/sys/class/net/$2/address"; }

do_down() {
    local name="$1" n
    for n in snd prx rcv vnf; do
        if ns_exists "$name-$n"; then
            # Kill anything still running inside (e.g. a VNF or daemon left behind), by pid.
            local pids
            pids="$(ip netns pids "$name-$n" 2>/dev/null || true)"
            if [[ -n "$pids" ]]; then
                # shellcheck disable=SC2086
                kill -TERM $pids 2>/dev/null || true
                sleep 0.2
                pids="$(ip netns pids "$name-$n" 2>/dev/null || true)"
                # shellcheck disable=SC2086
                [[ -z "$pids" ]] || kill -KILL $pids 2>/dev/null || true
            fi
            ip netns del "$name-$n" 2>/dev/null || true
        fi
    done
    # veths die with their namespaces; remove leftovers in the root namespace just in case.
    for n in s i e r t v w x y; do
        ip link del "$name$n" 2>/dev/null || true
    done
    return 0
}

do_up() {
    local name="$1"; shift
    local user_vnf=0 sidecar=0 stateful=0 egress_mtu="" ingress_mtu="" kube_fwmark=0 xor_mark=""
    while (($#)); do
        case "$1" in
            --user-vnf) user_vnf=1 ;;
            --sidecar-vnf) sidecar=1 ;;
            --stateful-vnf) stateful=1 ;;
            --egress-mtu) egress_mtu="${2:?--egress-mtu N}"; shift ;;
            --ingress-mtu) ingress_mtu="${2:?--ingress-mtu N}"; shift ;;
            --kube-fwmark) kube_fwmark=1 ;;
            --xor-mark-port) xor_mark="${2:?--xor-mark-port P[:BITS]}"; shift ;;
            *) die "unknown option '$1'" ;;
        esac
        shift
    done
    ((user_vnf + sidecar <= 1)) || die "--user-vnf and --sidecar-vnf exclude each other"
    ((!stateful || !(user_vnf + sidecar))) || die "--stateful-vnf is the kernel VNF in the proxy namespace"
    local xdp_pass=""
    if ((sidecar)); then
        xdp_pass="$(sidecar_xdp_obj)" || die "--sidecar-vnf: no empty_xdp.bpf.o (build: make -C bpf; or set SIDECAR_XDP_OBJ)"
    fi

    local snd="$name-snd" prx="$name-prx" rcv="$name-rcv" vnf="$name-vnf"
    local snd_if="${name}s" prx_in="${name}i" prx_out="${name}e" rcv_if="${name}r" tun="${name}t"
    for n in "$snd" "$prx" "$rcv" "$vnf"; do
        ns_exists "$n" && die "namespace $n already exists (run: $0 down $name)"
    done

    # Any failure from here on removes what was made.
    trap 'rc=$?; if ((rc != 0)); then do_down "'"$name"'"; fi' EXIT

    local nss=("$snd" "$prx" "$rcv")
    ((sidecar)) && nss+=("$vnf")
    for n in "${nss[@]}"; do
        ip netns add "$n"
        nsx "$n" ip link set lo up
        # rp_filter off everywhere (the effective value is max(all, iface)); set default before
        # the interfaces are made so they inherit it.
        sysctl_ns "$n" net.ipv4.conf.all.rp_filter 0
        sysctl_ns "$n" net.ipv4.conf.default.rp_filter 0
        # No duplicate address detection delay: addresses are usable at once.
        sysctl_ns "$n" net.ipv6.conf.all.accept_dad 0
        sysctl_ns "$n" net.ipv6.conf.default.accept_dad 0
        sysctl_ns "$n" net.ipv6.conf.all.disable_ipv6 0
        sysctl_ns "$n" net.ipv6.conf.default.disable_ipv6 0
    done
    sysctl_ns "$prx" net.ipv4.ip_forward 1
    sysctl_ns "$prx" net.ipv6.conf.default.forwarding 1
    sysctl_ns "$prx" net.ipv6.conf.all.forwarding 1

    ip link add "$snd_if" netns "$snd" type veth peer name "$prx_in" netns "$prx"
    ip link add "$prx_out" netns "$prx" type veth peer name "$rcv_if" netns "$rcv"

    # GRO off on the proxy interfaces: once an XDP program is attached to a veth, received skbs go
    # through napi_gro_receive and consecutive TCP segments of one flow could be merged into one
    # GSO skb after the label stack was popped (one skb, many cache entries). Each packet must
    # stay a packet on its way through the proxy.
    for i in "$prx_in" "$prx_out"; do
        nsx "$prx" ethtool -K "$i" gro off >/dev/null 2>&1 || true
    done

    nsx "$snd" ip addr add 198.18.1.1/24 dev "$snd_if"
    nsx "$snd" ip -6 addr add 2001:2:1::1/64 dev "$snd_if" nodad
    nsx "$prx" ip addr add 198.18.1.2/24 dev "$prx_in"
    nsx "$prx" ip -6 addr add 2001:2:1::2/64 dev "$prx_in" nodad
    nsx "$prx" ip addr add 198.18.2.2/24 dev "$prx_out"
    nsx "$prx" ip -6 addr add 2001:2:2::2/64 dev "$prx_out" nodad
    nsx "$rcv" ip addr add 198.18.2.1/24 dev "$rcv_if"
    nsx "$rcv" ip -6 addr add 2001:2:2::1/64 dev "$rcv_if" nodad

    if [[ -n "$ingress_mtu" ]]; then
        nsx "$snd" ip link set "$snd_if" mtu "$ingress_mtu"
        nsx "$prx" ip link set "$prx_in" mtu "$ingress_mtu"
    fi
    if [[ -n "$egress_mtu" ]]; then
        nsx "$prx" ip link set "$prx_out" mtu "$egress_mtu"
        nsx "$rcv" ip link set "$rcv_if" mtu "$egress_mtu"
    fi

    nsx "$snd" ip link set "$snd_if" up
    nsx "$prx" ip link set "$prx_in" up
    nsx "$prx" ip link set "$prx_out" up
    nsx "$rcv" ip link set "$rcv_if" up

    nsx "$snd" ip route add default via 198.18.1.2 dev "$snd_if"
    nsx "$snd" ip -6 route add default via 2001:2:1::2 dev "$snd_if"
    nsx "$rcv" ip route add default via 198.18.2.2 dev "$rcv_if"
    nsx "$rcv" ip -6 route add default via 2001:2:2::2 dev "$rcv_if"

    # The receiver only observes (packet socket); keep its stack quiet so the lab traffic does not
    # cause RSTs / port-unreachables flowing back through the proxy. Packet sockets see frames
    # before netfilter, so this does not hide anything from sfc_traffic.py recv.
    local t
    for t in iptables ip6tables; do
        nsx "$rcv" "$t" -t raw -A PREROUTING -i "$rcv_if" -p udp -j DROP
        nsx "$rcv" "$t" -t raw -A PREROUTING -i "$rcv_if" -p tcp -j DROP
    done

    # Kernel VNF: count and filter forwarded traffic. With --user-vnf the user-mode VNF does the
    # filtering (tun_vnf.py --drop-udp-port), so the chain only counts (every packet crosses
    # FORWARD twice then: ingress -> TUN and TUN -> egress). With --sidecar-vnf the chain is in
    # the VNF's namespace (sidecar_up).
    local vnf_ns="$prx"
    ((sidecar)) && vnf_ns="$vnf"
    for t in iptables ip6tables; do
        nsx "$vnf_ns" "$t" -N SFCVNF
        nsx "$vnf_ns" "$t" -A FORWARD -j SFCVNF
        if ((!user_vnf)); then
            nsx "$vnf_ns" "$t" -A SFCVNF -p udp --dport "$VNF_DROP_PORT" -j DROP
        fi
        if ((stateful)); then
            nsx "$vnf_ns" "$t" -A SFCVNF -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT
        else
            nsx "$vnf_ns" "$t" -A SFCVNF -p udp -j ACCEPT
            nsx "$vnf_ns" "$t" -A SFCVNF -p tcp -j ACCEPT
        fi
    done
    if [[ -n "$xor_mark" ]]; then
        local xport="${xor_mark%%:*}" xbits="0x10000"
        [[ "$xor_mark" == *:* ]] && xbits="${xor_mark#*:}"
        for t in iptables ip6tables; do
            nsx "$prx" "$t" -t mangle -A FORWARD -p udp --dport "$xport" -j MARK --xor-mark "$xbits"
        done
    fi
    if ((kube_fwmark)); then
        # kube-proxy's masquerade/drop bits: a packet carrying 0x4000 takes table 77 (blackhole)
        nsx "$prx" ip rule add fwmark 0x4000/0x4000 lookup 77 pref 500
        nsx "$prx" ip route add blackhole default table 77
        nsx "$prx" ip -6 rule add fwmark 0x4000/0x4000 lookup 77 pref 500
        nsx "$prx" ip -6 route add blackhole default table 77
    fi
    if ((sidecar)); then
        sidecar_up "$name" "$xdp_pass"
    fi

    if ((user_vnf)); then
        # Persistent TUN, no packet-info header (tun_vnf.py attaches with IFF_TUN|IFF_NO_PI).
        nsx "$prx" ip tuntap add dev "$tun" mode tun
        sysctl_ns "$prx" "net.ipv4.conf.$tun.rp_filter" 0
        sysctl_ns "$prx" "net.ipv6.conf.$tun.forwarding" 1
        sysctl_ns "$prx" "net.ipv6.conf.$tun.disable_ipv6" 0
        nsx "$prx" ip link set "$tun" up
        # Everything arriving on the ingress interface (and not addressed to the proxy itself:
        # the local table is consulted first) goes to the user-mode VNF ...
        nsx "$prx" ip rule add iif "$prx_in" lookup "$TUN_TABLE" pref 1000
        nsx "$prx" ip -6 rule add iif "$prx_in" lookup "$TUN_TABLE" pref 1000
        nsx "$prx" ip route add default dev "$tun" table "$TUN_TABLE"
        nsx "$prx" ip -6 route add default dev "$tun" table "$TUN_TABLE"
        # ... and what it writes back (iif NAMEt) uses the main table: 198.18.2.0/24 / 2001:2:2::/64
        # are connected routes on the egress interface.
    fi

    # Static neighbour entries (no ARP/ND round trip, no first-packet queueing; iputils ping is
    # not even installed on the lab machine). The MACs are the ones the kernel just made.
    local snd_mac prx_in_mac prx_out_mac rcv_mac
    snd_mac="$(mac_of "$snd" "$snd_if")"
    prx_in_mac="$(mac_of "$prx" "$prx_in")"
    prx_out_mac="$(mac_of "$prx" "$prx_out")"
    rcv_mac="$(mac_of "$rcv" "$rcv_if")"
    nsx "$snd" ip neigh replace 198.18.1.2 lladdr "$prx_in_mac" nud permanent dev "$snd_if"
    nsx "$snd" ip -6 neigh replace 2001:2:1::2 lladdr "$prx_in_mac" nud permanent dev "$snd_if"
    nsx "$prx" ip neigh replace 198.18.1.1 lladdr "$snd_mac" nud permanent dev "$prx_in"
    nsx "$prx" ip -6 neigh replace 2001:2:1::1 lladdr "$snd_mac" nud permanent dev "$prx_in"
    nsx "$prx" ip neigh replace 198.18.2.1 lladdr "$rcv_mac" nud permanent dev "$prx_out"
    nsx "$prx" ip -6 neigh replace 2001:2:2::1 lladdr "$rcv_mac" nud permanent dev "$prx_out"
    nsx "$rcv" ip neigh replace 198.18.2.2 lladdr "$prx_out_mac" nud permanent dev "$rcv_if"
    nsx "$rcv" ip -6 neigh replace 2001:2:2::2 lladdr "$prx_out_mac" nud permanent dev "$rcv_if"

    trap - EXIT

    echo "NAME=$name"
    echo "SND_NS=$snd"
    echo "PRX_NS=$prx"
    echo "RCV_NS=$rcv"
    echo "SND_IF=$snd_if"
    echo "PRX_IN=$prx_in"
    echo "PRX_OUT=$prx_out"
    echo "RCV_IF=$rcv_if"
    echo "SND_MAC=$snd_mac"
    echo "PRX_IN_MAC=$prx_in_mac"
    echo "PRX_OUT_MAC=$prx_out_mac"
    echo "RCV_MAC=$rcv_mac"
    echo "SND_IP4=198.18.1.1"
    echo "SND_IP6=2001:2:1::1"
    echo "RCV_IP4=198.18.2.1"
    echo "RCV_IP6=2001:2:2::1"
    echo "VNF_DROP_PORT=$VNF_DROP_PORT"
    if ((user_vnf)); then
        echo "TUN_IF=$tun"
    fi
    if ((sidecar)); then
        echo "VNF_NS=$vnf"
        echo "VNF_IF=${name}v"
        echo "VNF_IN=${name}w"
        echo "VNF_OUT=${name}x"
        echo "VNF_BACK=${name}y"
    fi
}

# The empty XDP program for the VNF's in-veth: beside this script in a build output
# (bin/.../e2e -> bin/.../bpf) or in the source tree (tests/e2e -> bpf/build).
sidecar_xdp_obj() {
    local here c
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    for c in "${SIDECAR_XDP_OBJ:-}" "$here/../bpf/empty_xdp.bpf.o" "$here/../../bpf/build/empty_xdp.bpf.o"; do
        [[ -n "$c" && -f "$c" ]] && { echo "$c"; return 0; }
    done
    return 1
}

# --sidecar-vnf: NAME-vnf and its two veth pairs (see the header); called after the main
# topology is up, NAME-vnf already exists (made with the others).
sidecar_up() {
    local name="$1" xdp_pass="$2"
    local prx="$name-prx" vnf="$name-vnf" prx_in="${name}i"
    local to_vnf="${name}v" vnf_in="${name}w" vnf_out="${name}x" back="${name}y"
    sysctl_ns "$vnf" net.ipv4.ip_forward 1
    sysctl_ns "$vnf" net.ipv6.conf.default.forwarding 1
    sysctl_ns "$vnf" net.ipv6.conf.all.forwarding 1
    ip link add "$to_vnf" netns "$prx" type veth peer name "$vnf_in" netns "$vnf"
    ip link add "$vnf_out" netns "$vnf" type veth peer name "$back" netns "$prx"
    nsx "$vnf" ip link set dev "$vnf_in" address "$(mac_of "$prx" "$prx_in")"
    nsx "$prx" ip addr add 198.18.3.2/24 dev "$to_vnf"
    nsx "$prx" ip -6 addr add 2001:2:3::2/64 dev "$to_vnf" nodad
    nsx "$vnf" ip addr add 198.18.3.1/24 dev "$vnf_in"
    nsx "$vnf" ip -6 addr add 2001:2:3::1/64 dev "$vnf_in" nodad
    nsx "$vnf" ip addr add 198.18.4.1/24 dev "$vnf_out"
    nsx "$vnf" ip -6 addr add 2001:2:4::1/64 dev "$vnf_out" nodad
    nsx "$prx" ip addr add 198.18.4.2/24 dev "$back"
    nsx "$prx" ip -6 addr add 2001:2:4::2/64 dev "$back" nodad
    local i
    for i in "$to_vnf" "$back"; do nsx "$prx" ip link set "$i" up; done
    for i in "$vnf_in" "$vnf_out"; do nsx "$vnf" ip link set "$i" up; done
    nsx "$vnf" ip link set dev "$vnf_in" xdpdrv obj "$xdp_pass" sec xdp
    # GRO off where the VNF's traffic enters the proxy again (same reason as on the ingress).
    nsx "$prx" ethtool -K "$back" gro off >/dev/null 2>&1 || true

    # The VNF sends everything on towards the proxy; the proxy sends the ingress' traffic (what
    # xdp_rx passed up, e.g. plain IP) into the VNF.
    nsx "$vnf" ip route add default via 198.18.4.2 dev "$vnf_out"
    nsx "$vnf" ip -6 route add default via 2001:2:4::2 dev "$vnf_out"
    nsx "$prx" ip rule add iif "$prx_in" lookup "$TUN_TABLE" pref 1000
    nsx "$prx" ip -6 rule add iif "$prx_in" lookup "$TUN_TABLE" pref 1000
    nsx "$prx" ip route add default via 198.18.3.1 dev "$to_vnf" table "$TUN_TABLE"
    nsx "$prx" ip -6 route add default via 2001:2:3::1 dev "$to_vnf" table "$TUN_TABLE"

    nsx "$prx" ip neigh replace 198.18.3.1 lladdr "$(mac_of "$vnf" "$vnf_in")" nud permanent dev "$to_vnf"
    nsx "$prx" ip -6 neigh replace 2001:2:3::1 lladdr "$(mac_of "$vnf" "$vnf_in")" nud permanent dev "$to_vnf"
    nsx "$vnf" ip neigh replace 198.18.4.2 lladdr "$(mac_of "$prx" "$back")" nud permanent dev "$vnf_out"
    nsx "$vnf" ip -6 neigh replace 2001:2:4::2 lladdr "$(mac_of "$prx" "$back")" nud permanent dev "$vnf_out"
    nsx "$vnf" ip neigh replace 198.18.3.2 lladdr "$(mac_of "$prx" "$to_vnf")" nud permanent dev "$vnf_in"
    nsx "$vnf" ip -6 neigh replace 2001:2:3::2 lladdr "$(mac_of "$prx" "$to_vnf")" nud permanent dev "$vnf_in"
    nsx "$prx" ip neigh replace 198.18.4.1 lladdr "$(mac_of "$vnf" "$vnf_out")" nud permanent dev "$back"
    nsx "$prx" ip -6 neigh replace 2001:2:4::1 lladdr "$(mac_of "$vnf" "$vnf_out")" nud permanent dev "$back"
}

(($# >= 2)) || usage
verb="$1"; name="$2"; shift 2
check_name "$name"
[[ $EUID -eq 0 ]] || die "must run as root"

case "$verb" in
    up) do_up "$name" "$@" ;;
    down) do_down "$name" ;;
    exec)
        (($# >= 2)) || die "exec needs NODE and CMD"
        node="$1"; shift
        case "$node" in snd|prx|rcv|vnf) ;; *) die "NODE must be snd, prx, rcv or vnf (--sidecar-vnf)" ;; esac
        ns_exists "$name-$node" || die "namespace $name-$node does not exist"
        exec ip netns exec "$name-$node" "$@"
        ;;
    burst)
        (($# == 1)) || die "burst needs CPU"
        cpu="$1"
        ns_exists "$name-prx" || die "namespace $name-prx does not exist"
        # NAPI exists on a veth only while XDP (or GRO) is on: this must follow the attach.
        nsx "$name-prx" sh -c "echo 1 > /sys/class/net/${name}i/threaded" ||
            die "cannot make ${name}i's NAPI threaded (is XDP attached? kernel >= 5.12?)"
        pids="$(ps -eo pid=,comm= | awk -v p="napi/${name}i-" 'index($2, p) == 1 {print $1}')"
        [[ -n "$pids" ]] || die "no NAPI thread napi/${name}i-* after making it threaded"
        # pinned beside the sender and SCHED_FIFO like it: it runs as soon as the sender sleeps
        # after a burst (not whenever the scheduler gets round to it on a busy machine), and
        # never in the middle of a burst
        for p in $pids; do taskset -p -c "$cpu" "$p" >/dev/null; chrt -f -p 1 "$p"; done
        echo "NAPI_THREADS=$(echo $pids | tr ' ' ,)"
        ;;
    *) usage ;;
esac
