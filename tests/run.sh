#!/usr/bin/env bash
# Runs every SfcProxy test against the real kernel (root: the tests load BPF programs and build
# network namespaces), then prints one plain "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

results=$(mktemp -d)
# Every test removes what it pins, but a test host that is killed (a hang stopped by the per-test
# timeout, a cancelled run) cannot: remove the pin directories of the tests' own instance prefixes
# when the run ends, so no run leaves maps in bpffs. The daemon's own instances are never touched.
remove_test_pins() {
	local d
	for d in /sys/fs/bpf/sfcproxy/test-* /sys/fs/bpf/sfcproxy/aging-* /sys/fs/bpf/sfcproxy/dsrhost-*; do
		[ -d "$d" ] || continue
		echo "tests: removing pins a killed test left behind: $d" >&2
		rm -rf "$d"
	done
}
trap 'rm -rf "$results"; remove_test_pins' EXIT

set +e
dotnet test SfcProxy.sln --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" \
	--results-directory "$results" "$@"
rc=$?
set -e

trx=$(find "$results" -name '*.trx' | head -n 1)
if [ -z "$trx" ]; then
	echo "tests: no results (build or test host failed)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
counter() { grep -o "<Counters [^>]*" "$trx" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
passed=$(counter passed)
failed=$(( $(counter failed) + $(counter error) + $(counter timeout) + $(counter aborted) ))
notrun=$(( $(counter total) - $(counter executed) ))
[ "$notrun" -eq 0 ] || echo "tests: $notrun test(s) did not run" >&2
# A test host that hung or crashed can leave a results file whose counters show nothing failed:
# the run still failed, and the summary line must say so.
if [ "$rc" -ne 0 ] && [ "$((failed + notrun))" -eq 0 ]; then
	echo "tests: the test run ended with exit code $rc without a failed test (the test host aborted?)" >&2
	failed=1
fi
echo "$passed passed, $((failed + notrun)) failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$notrun" -eq 0 ]
