#!/usr/bin/env bash
# Adapter between vm-lab/policy-bench.sh and the SfcProxy policy datapath. The ONLY place that
# knows how SfcProxy is started, fed a policy and stopped; if the daemon's config schema or the CLI
# shifts, change this file and nothing else.
#
#   sfcproxy_policy.sh check       exit 0 if the build is there (sfcproxy.dll + bpf/policy.bpf.o), else say why
#   sfcproxy_policy.sh attach      start `sfcproxy run` in the server namespace (policy: allow rule only)
#   sfcproxy_policy.sh apply N     load N non-matching rules + the allow rule (gen_rules.py sfcproxy)
#   sfcproxy_policy.sh detach      stop the daemon (SIGTERM: it detaches and removes its pins)
#
# Environment (set by policy-bench.sh): PB_NS (server netns), PB_IF (server veth), PB_WORK (run dir),
# PB_CLIENT_IP, PB_SERVER_IP, PB_PORTS (comma list), PB_ID (unique run id). Optional: SFCPROXY_DLL.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dll="${SFCPROXY_DLL:-$repo/SfcProxy/bin/Debug/net10.0/sfcproxy.dll}"
obj="$(dirname "$dll")/bpf/policy.bpf.o"       # program policy_tc, maps pinned by name
instance="polbench-${PB_ID:-x}"
dir="${PB_WORK:-/tmp}/sfcproxy"
cfg="$dir/sfcproxy.json"
policy="$dir/policy.json"
sock="$dir/sfcproxy.sock"
pidfile="$dir/daemon.pid"
log="$dir/daemon.log"

sfcproxy() { nsenter --net="/run/netns/$PB_NS" dotnet "$dll" "$@"; }

write_config() {   # the daemon config: the one place its schema lives
	cat > "$cfg" <<JSON
{"SfcProxy":{
  "Instance":"$instance",
  "Interfaces":{"Ingress":"$PB_IF","Egress":"$PB_IF"},
  "Encapsulations":["mpls"],
  "MissPolicy":"pass",
  "DisableGro":false,
  "Socket":{"Path":"$sock"},
  "Policy":{"Files":["$policy"],"Interfaces":["$PB_IF"]}
}}
JSON
}

write_policy() {   # $1 = number of non-matching rules
	/usr/bin/python3 "$here/gen_rules.py" sfcproxy --n "$1" --client "$PB_CLIENT_IP" \
		--server "$PB_SERVER_IP" --ports "$PB_PORTS" > "$policy.tmp"
	mv "$policy.tmp" "$policy"
}

ready() {   # the daemon applies its policy files before its control socket listens
	[ -S "$sock" ]
}

case "${1:-}" in
check)
	command -v dotnet >/dev/null || { echo "dotnet not on PATH"; exit 1; }
	[ -f "$dll" ] || { echo "no build: $dll (run: dotnet build SfcProxy/SfcProxy.csproj)"; exit 1; }
	[ -f "$obj" ] || { echo "no policy datapath: $obj"; exit 1; }
	;;
attach)
	mkdir -p "$dir"
	write_config
	write_policy 0
	sfcproxy run --config "$cfg" > "$log" 2>&1 &
	echo $! > "$pidfile"
	for _ in $(seq 1 150); do
		ready && exit 0
		kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "sfcproxy run exited:"; tail -20 "$log"; exit 1; }
		sleep 0.2
	done
	echo "sfcproxy run: not ready (no $sock) after 30 s"; tail -20 "$log"; exit 1
	;;
apply)
	n="${2:?apply N}"
	write_policy "$n"
	# The daemon re-reads its policy files (Policy:Files), compiles them and swaps the tables in whole.
	sfcproxy policy apply --socket "$sock" > "$dir/apply.log" 2>&1 \
		|| { echo "sfcproxy policy apply failed:"; tail -20 "$dir/apply.log"; exit 1; }
	;;
detach)
	[ -f "$pidfile" ] || exit 0
	pid="$(cat "$pidfile")"
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
	kill -0 "$pid" 2>/dev/null && { echo "sfcproxy run did not stop; killing $pid"; kill -KILL "$pid" || true; }
	rm -f "$pidfile"
	# A daemon that had to be killed leaves its pins: detach them so the next point starts clean.
	[ -d "/sys/fs/bpf/sfcproxy/$instance" ] && sfcproxy detach --instance "$instance" >/dev/null || true
	rm -rf "/sys/fs/bpf/sfcproxy/$instance-policy"
	;;
*)
	echo "usage: $0 check|attach|apply N|detach" >&2; exit 2 ;;
esac
