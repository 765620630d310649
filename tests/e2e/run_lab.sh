#!/usr/bin/env bash
# Manual end-to-end run (what the MSTest EndToEnd tests do), for debugging the datapath by hand.
#
#   run_lab.sh metadata|header-hash kernel|stateful|tun [--encap mpls|nsh|srv6|mixed|all] [--corpus] [--keep]
#              [--count N] [--seed S] [--out DIR] [--json] [-- DAEMON CMD...]
#
# Ends with a short summary (tests/e2e/lab_summary.py): what was sent, what the VNF was meant to
# do, what arrived with its own headers, PASS or FAIL (the exit code: 0 on PASS), the proxy's main
# counters. The raw JSON (receiver.json, stats.json, sender.json, the VNF's iptables counters, the
# daemon's log) is kept in --out DIR (default /tmp/sfcproxy-lab-NAME); --json also prints it.
#
# stateful: the kernel VNF with a conntrack chain (topology.sh --stateful-vnf).
# --corpus: the real-traffic corpus (corpus_traffic.py) instead of sfc_traffic.py, as the MSTest
# CorpusEndToEndTests run it: egress MTU 1400 (the too-big shape), ingress MTU 2000, bursts sent
# from CPU 0 as SCHED_FIFO into a threaded NAPI pinned there (topology.sh burst); metadata key
# also with kube-proxy's fwmark rule and a VNF rule that changes the mark of UDP to 5999.
#
# --encap (default mpls): nsh / mixed configure "Encapsulations" ["nsh"] / ["mpls","nsh"] and
# "Nsh": {"NextHopMac": receiver MAC}, and send NSH (MD types 1 and 2; next protocol IPv4, IPv6 and,
# with the kernel VNF, Ethernet; 2% with TTL/SI exhausted, which must be dropped). With tun there is
# no next protocol Ethernet: the TUN VNF carries IP packets only. srv6 / all configure
# ["srv6"] / ["mpls","nsh","srv6"] with the proxy SID 2001:2:0:ff::100 (Srv6:Sids) and send SRv6
# with per-packet SRHs (srv6_headers.py; 2% with hop limit 0/1, which must be dropped).
#
# Default daemon: dotnet SfcProxy/bin/Debug/net10.0/sfcproxy.dll. With --keep the lab and the
# daemon stay up after the run (press Enter to tear down) so you can look with bpftool/tcpdump:
#   ip netns exec NAME-prx bpftool net ; ip netns exec NAME-rcv tcpdump -eni NAMEr -c 5
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PY=/usr/bin/python3

key="${1:?key mode: metadata|header-hash}"; vnf="${2:?vnf: kernel|tun}"; shift 2
keep=0; count=1200; seed=$RANDOM; encap=mpls; corpus=0; out=""; json=0
daemon=(dotnet "$repo/SfcProxy/bin/Debug/net10.0/sfcproxy.dll")
while (($#)); do
    case "$1" in
        --keep) keep=1 ;;
        --corpus) corpus=1 ;;
        --count) count="$2"; shift ;;
        --seed) seed="$2"; shift ;;
        --out) out="$2"; shift ;;
        --json) json=1 ;;
        --encap) encap="$2"; shift
            case "$encap" in mpls|nsh|srv6|mixed|all) ;; *) echo "--encap mpls|nsh|srv6|mixed|all" >&2; exit 2 ;; esac ;;
        --) shift; daemon=("$@"); break ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if ((corpus)) && [[ "$encap" == srv6 || "$encap" == all ]]; then
    echo "--corpus has no SRv6 (corpus_traffic.py: --encap mpls|nsh|mixed)" >&2; exit 2
fi
name="sf$(printf '%04x' $((RANDOM % 65536)))"
tmp="$(mktemp -d "/tmp/sfcproxy-lab-$name-XXXX")"
out="${out:-/tmp/sfcproxy-lab-$name}"
mkdir -p "$out"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.5
    "$here/topology.sh" down "$name"
    rm -rf "$tmp" "/tmp/$name.sock"
}
trap cleanup EXIT

topo=()
if ((corpus)); then
    topo+=(--egress-mtu 1400 --ingress-mtu 2000)
    [[ "$key" == metadata ]] && topo+=(--kube-fwmark --xor-mark-port 5999)
fi
if [[ "$vnf" == tun ]]; then
    eval "$("$here/topology.sh" up "$name" --user-vnf "${topo[@]}")"; hops=2
    ip netns exec "$PRX_NS" $PY "$here/tun_vnf.py" --tun "$TUN_IF" --drop-udp-port "$VNF_DROP_PORT" >"$tmp/vnf.out" 2>&1 &
    pids+=($!)
    sleep 0.3
elif [[ "$vnf" == stateful ]]; then
    eval "$("$here/topology.sh" up "$name" --stateful-vnf "${topo[@]}")"; hops=1
else
    eval "$("$here/topology.sh" up "$name" "${topo[@]}")"; hops=1
fi
echo "lab $name: $PRX_IN -> $PRX_OUT in $PRX_NS, key mode $key, $vnf VNF, encap $encap, $count packets, seed $seed"

srv6_sid=2001:2:0:ff::100  # sfc_traffic.py's default --srv6-sid
srv6_sids='"Srv6": {"Sids": [{"Sid": "'"$srv6_sid"'", "Inner": ["ipv4", "ipv6"]}]},'
# MPLS only: no Encapsulations field (the default), so this also runs daemons that predate NSH.
case "$encap" in
    mpls) encaps='' ;;
    nsh) encaps='"Encapsulations": ["nsh"], "Nsh": {"NextHopMac": "'"$RCV_MAC"'"},' ;;
    mixed) encaps='"Encapsulations": ["mpls", "nsh"], "Nsh": {"NextHopMac": "'"$RCV_MAC"'"},' ;;
    srv6) encaps='"Encapsulations": ["srv6"], '"$srv6_sids" ;;
    all) encaps='"Encapsulations": ["mpls", "nsh", "srv6"], "Nsh": {"NextHopMac": "'"$RCV_MAC"'"}, '"$srv6_sids" ;;
esac
cat >"$tmp/config.json" <<EOF
{"SfcProxy": {"Instance": "$name", "KeyMode": "$key", $encaps
  "Interfaces": {"Ingress": "$PRX_IN", "Egress": "$PRX_OUT"},
  "ConsumedSegments": 1, "MissPolicy": "${MISS_POLICY:-drop}", "Cache": {"Size": 16383},
  "Socket": {"Path": "/tmp/$name.sock"}}}
EOF
# nsenter, not `ip netns exec`: the daemon must see the host bpffs to pin its maps.
nsenter --net="/run/netns/$PRX_NS" -- "${daemon[@]}" run --config "$tmp/config.json" >"$tmp/daemon.out" 2>&1 &
dpid=$!; pids+=($dpid)
for _ in $(seq 300); do
    [[ -S "/tmp/$name.sock" ]] && break
    kill -0 "$dpid" 2>/dev/null || { echo "daemon exited:"; cat "$tmp/daemon.out"; exit 1; }
    sleep 0.1
done
[[ -S "/tmp/$name.sock" ]] || { echo "daemon not ready after 30 s:"; cat "$tmp/daemon.out"; exit 1; }

gen=(--count "$count" --seed "$seed" --flows 8 --family both --labels-min 1 --labels-max 5 --drop-port "$VNF_DROP_PORT"
     --encap "$encap")
traffic="$here/sfc_traffic.py"; pacing=()
if ((corpus)); then
    traffic="$here/corpus_traffic.py"
    gen+=(--vnf "$vnf" --key-mode "$key" --egress-mtu 1400)
    [[ "$key" == metadata ]] && gen+=(--mark-xor-port 5999)
    [[ "$vnf" == tun ]] && gen+=(--nsh-no-ethernet)
    # shellcheck disable=SC2206
    gen+=(${CORPUS_ARGS:-})  # e.g. CORPUS_ARGS="--shapes frag,toobig"
    "$here/topology.sh" burst "$name" 0
    pacing=(--burst-cpu 0)
elif [[ "$encap" != mpls ]]; then
    gen+=(--nsh-expired 0.02 --srv6-expired 0.02)
    [[ "$vnf" == tun ]] && gen+=(--nsh-no-ethernet)
    # shellcheck disable=SC2206
    gen+=(${CORPUS_ARGS:-})  # e.g. CORPUS_ARGS="--shapes frag,toobig"
fi
ip netns exec "$RCV_NS" $PY "$traffic" recv --iface "$RCV_IF" "${gen[@]}" \
    --consumed 1 --ip-hops "$hops" --egress-mac "$PRX_OUT_MAC" --nsh-outer-dst "$RCV_MAC" \
    --timeout 20 --out "$tmp/result.json" >"$tmp/recv.out" 2>&1 &
rpid=$!
for _ in $(seq 200); do grep -q READY "$tmp/recv.out" && break; sleep 0.05; done
ip netns exec "$SND_NS" $PY "$traffic" send --iface "$SND_IF" --dst-mac "$PRX_IN_MAC" \
    --inner-dst-mac "$PRX_IN_MAC" "${gen[@]}" "${pacing[@]}" >"$out/sender.json"
rc=0; wait "$rpid" || rc=$?
ip netns exec "$PRX_NS" "${daemon[@]}" stats --socket "/tmp/$name.sock" --json >"$out/stats.json" 2>&1 || true
cp "$tmp/result.json" "$out/receiver.json" 2>/dev/null || cp "$tmp/recv.out" "$out/receiver.out"
if [[ "$vnf" != tun ]]; then
    { ip netns exec "$PRX_NS" iptables -L SFCVNF -v -x -n; ip netns exec "$PRX_NS" ip6tables -L SFCVNF -v -x -n; } >"$out/vnf.txt" 2>&1 || true
fi
cp "$tmp/daemon.out" "$out/daemon.log" 2>/dev/null || true
if ((json)); then
    echo "--- sender"; cat "$out/sender.json"
    echo "--- daemon stats"; cat "$out/stats.json"
    echo "--- receiver (exit $rc)"; cat "$out/receiver.json" 2>/dev/null || cat "$out/receiver.out"
    [[ -f "$out/vnf.txt" ]] && { echo "--- VNF (iptables SFCVNF)"; cat "$out/vnf.txt"; }
fi
scenario="$key key, $vnf VNF, encap $encap"
# PASS/FAIL and the exit code come from the receiver's checks (all_ok), read by the summary.
$PY "$here/lab_summary.py" --receiver "$out/receiver.json" --stats "$out/stats.json" --scenario "$scenario" --raw "$out" || rc=1
if ((keep)); then
    echo "lab $name kept up; namespaces $SND_NS $PRX_NS $RCV_NS. Press Enter to tear down."
    read -r _
fi
exit "$rc"
