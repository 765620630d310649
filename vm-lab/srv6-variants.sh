#!/usr/bin/env bash
# Where the SRv6 path's time goes: `sfcproxy bench --srv6-only` of builds of REV with one part of
# the SRv6 path cut out (wrong builds, for measuring only), interleaved round by round:
#   base    REV as it is
#   nosid   no SID match (every packet taken as SID 0)
#   nowalk  the SRH assumed right behind the IPv6 header: no extension-header walk, no TLV walk
#   nocopy  every SRv6 header-set copy moves 64 bytes
#   nopush  tc_tx pushes nothing for SRv6
#
#   vm-lab/srv6-variants.sh REV [--rounds N] [--packets N] [--variants "base nosid ..."]
#
# Prints per row and variant the medians over the rounds of rx, tx and round-trip medians (ns, the
# round trip over the static proxy of the same run) and each variant's round trip minus base's in
# the same round. The edits are string replacements in REV's sources (vm-lab/results/core-bench.md,
# "Issue 16", ran them on 746d284): a REV whose code moved fails loudly. Each build is a temporary
# git worktree, removed on exit. Needs root, clang, libbpf-dev and the .NET SDK.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 REV [--rounds N] [--packets N] [--variants LIST]" >&2; exit 2; }
rev="$1"; shift
rounds=3 packets=10000 variants="base nosid nowalk nocopy nopush"
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds="$2"; shift 2 ;;
	--packets) packets="$2"; shift 2 ;;
	--variants) variants="$2"; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
work=$(mktemp -d)
cleanup() {
	for v in $variants; do git -C "$repo" worktree remove --force "$work/$v" >/dev/null 2>&1 || true; done
	rm -rf "$work"
}
trap cleanup EXIT
for v in $variants; do
	git -C "$repo" worktree add --detach "$work/$v" "$rev" >/dev/null
	python3 "$here/srv6_variants.py" edit "$v" "$work/$v"
	(cd "$work/$v" && dotnet build SfcProxy/SfcProxy.csproj -v q >/dev/null)
done
for r in $(seq 1 "$rounds"); do
	for v in $variants; do
		dotnet "$work/$v/SfcProxy/bin/Debug/net10.0/sfcproxy.dll" bench --srv6-only --packets "$packets" \
			--output "$work/out-$v-$r.md" >/dev/null 2>&1
	done
done
echo "Command: \`vm-lab/srv6-variants.sh $rev --rounds $rounds --packets $packets --variants \"$variants\"\` ($(date -u '+%Y-%m-%d %H:%M') UTC)"
echo
python3 "$here/srv6_variants.py" table "$work" "$rounds" $variants
