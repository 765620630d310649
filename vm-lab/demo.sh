#!/usr/bin/env bash
# The built-in demo: prepares the machine, builds SfcProxy, and runs it on a service-function host
# between a sender and a receiver (network namespaces on 198.18.0.0/15 and 2001:2::/48) twice:
# metadata key mode in front of a kernel VNF (forwarding + iptables), then header-hash key mode in
# front of a user-mode VNF (a process on a TUN device). Each run sends real SR-MPLS and NSH traffic
# mixed on one interface, checks every packet at the receiver and prints the proxy's counters.
# Needs root.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
bash "$repo/scripts/setup.sh"
dotnet build "$repo/SfcProxy/SfcProxy.csproj" -nologo -v quiet
bash "$repo/tests/e2e/run_lab.sh" metadata kernel --encap mixed --count 2000
bash "$repo/tests/e2e/run_lab.sh" header-hash tun --encap mixed --count 2000
