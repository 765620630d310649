#!/usr/bin/env bash
# Before/after of a datapath change, measured side by side in one run: `sfcproxy bench` of the
# build at git revision BEFORE and of the working tree, alternated ROUNDS times (so a slower moment
# of a shared machine hits both), then one table of each row's round trip over the static proxy
# measured in the same bench run (mean over mean, median over median) per round.
#
#   vm-lab/bench-ab.sh BEFORE [--rounds N] [--packets N] [--labels "1 4 10 16"] [--srv6-only] [--only ROW] [--out FILE]
#
# --only ROW measures the rows whose name starts with ROW ("metadata mpls 4"; BEFORE must know --only).
# --srv6-only measures the SRv6 rows alone (`sfcproxy bench --srv6-only`; BEFORE must have them).
# BEFORE is built in a temporary git worktree (removed on exit). Needs root, clang, libbpf-dev and
# the .NET SDK, like the bench itself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
[ $# -ge 1 ] || { echo "usage: $0 BEFORE [--rounds N] [--packets N] [--labels LIST] [--srv6-only] [--only ROW] [--out FILE]" >&2; exit 2; }
before="$1"; shift
rounds=2 packets=20000 labels="1 4 10 16" out="" only="" row=""
cmdline="vm-lab/bench-ab.sh $before${*:+ $*}"
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds="$2"; shift 2 ;;
	--packets) packets="$2"; shift 2 ;;
	--labels) labels="$2"; shift 2 ;;
	--out) out="$2"; shift 2 ;;
	--srv6-only) only="--srv6-only"; shift ;;
	--only) row="$2"; shift 2 ;;
	*) echo "unknown option $1" >&2; exit 2 ;;
	esac
done
work=$(mktemp -d)
old="$work/before"
cleanup() { git -C "$repo" worktree remove --force "$old" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
git -C "$repo" worktree add --detach "$old" "$before" >/dev/null
(cd "$old" && dotnet build SfcProxy/SfcProxy.csproj -v q >/dev/null)
(cd "$repo" && dotnet build SfcProxy/SfcProxy.csproj -v q >/dev/null)
for r in $(seq 1 "$rounds"); do
	for side in before after; do
		dir="$repo"; [ "$side" = before ] && dir="$old"
		# shellcheck disable=SC2086
		dotnet "$dir/SfcProxy/bin/Debug/net10.0/sfcproxy.dll" bench --packets "$packets" --labels $labels $only ${row:+--only "$row"} \
			--output "$work/$side-$r.md" >/dev/null 2>&1
	done
done
table=$(python3 "$here/bench_ab.py" "$work" "$rounds")
header="Command: \`$cmdline\` ($(date -u '+%Y-%m-%d %H:%M') UTC, before = $(git -C "$repo" rev-parse --short "$before"), after = the working tree at $(git -C "$repo" rev-parse --short HEAD))"
printf '%s\n\n%s\n' "$header" "$table"
[ -z "$out" ] || printf '%s\n\n%s\n' "$header" "$table" > "$out"
