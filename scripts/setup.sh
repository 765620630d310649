#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine for SfcProxy: build tools for the BPF objects, the lab's
# traffic tools, and a mounted bpffs. Idempotent; needs root.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: needs root (installs packages, mounts bpffs, loads BPF programs)" >&2
	exit 1
fi

# nftables: the judge of the policy's differential test (PolicyNftDifferentialTests). tmux: the real
# terminal the CLI's screen tests draw in (TerminalWatchTests; `script`, which keeps the raw stream,
# is util-linux's, always there).
packages=(clang llvm make libbpf-dev bpftool iproute2 iptables nftables ethtool python3-scapy python3-matplotlib iperf3 tcpdump
	openvswitch-switch tmux)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Open vSwitch is the lab's static-proxy baseline (vm-lab/lab/ovs.sh), which runs its own
# ovsdb-server and ovs-vswitchd per lab with private files. The package's system-wide service is
# not wanted (a stray bridge or database would only confuse): stop it and keep it from starting.
if [ -d /run/systemd/system ]; then
	systemctl disable --now openvswitch-switch.service ovs-vswitchd.service ovsdb-server.service >/dev/null 2>&1 || true
elif command -v update-rc.d >/dev/null; then
	update-rc.d openvswitch-switch disable >/dev/null 2>&1 || true
fi
if [ -x /usr/share/openvswitch/scripts/ovs-ctl ]; then
	/usr/share/openvswitch/scripts/ovs-ctl stop >/dev/null 2>&1 || true
fi

if ! command -v dotnet >/dev/null; then
	echo "setup: the .NET 10 SDK (dotnet) is not on PATH; install it first" >&2
	exit 1
fi

# Pinned maps and links live on bpffs; a fresh machine may not have it mounted.
if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
	mount -t bpf bpf /sys/fs/bpf
fi
[ -e /sys/kernel/btf/vmlinux ] || echo "setup: warning: kernel has no BTF (/sys/kernel/btf/vmlinux)" >&2
