#!/usr/bin/env bash
# The built-in demo: prepares the machine, builds SfcProxy, and runs it on a service-function host
# between a sender and a receiver (network namespaces on 198.18.0.0/15 and 2001:2::/48) twice:
# metadata key mode in front of a kernel VNF (forwarding + iptables), then header-hash key mode in
# front of a user-mode VNF (a process on a TUN device). Each run sends real SR-MPLS and NSH traffic
# mixed on one interface, the receiver checks every packet, and the run ends with a short summary
# (what was sent, what the VNF was meant to do, what arrived with its own headers, PASS or FAIL,
# the proxy's main counters). The raw JSON of each run is kept under one directory, printed at the
# end; --json prints it too. Exit 0 only when both runs PASS. Needs root.
#
#   sudo bash vm-lab/demo.sh [--json]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
json=()
case "${1:-}" in
    --json) json=(--json) ;;
    "") ;;
    *) echo "usage: demo.sh [--json]" >&2; exit 2 ;;
esac
bash "$repo/scripts/setup.sh"
dotnet build "$repo/SfcProxy/SfcProxy.csproj" -nologo -v quiet
results="$(mktemp -d /tmp/sfcproxy-demo-XXXX)"
failed=0
echo
bash "$repo/tests/e2e/run_lab.sh" metadata kernel --encap mixed --count 2000 --out "$results/metadata-kernel" "${json[@]}" || failed=1
echo
bash "$repo/tests/e2e/run_lab.sh" header-hash tun --encap mixed --count 2000 --out "$results/header-hash-tun" "${json[@]}" || failed=1
echo
if ((failed)); then
    echo "demo: FAIL (a packet lost its headers or was not accounted for; details in $results)"
    exit 1
fi
echo "demo: PASS, both runs (raw JSON in $results)"
