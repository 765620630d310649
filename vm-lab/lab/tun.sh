# shellcheck shell=bash
# User-mode VNF bench for vm-lab/lab.sh (sourced): `bench --vnf tun`.
#
# The VNF is tests/e2e/tun_vnf.py on a TUN device in the proxy namespace (one Python process, on
# CPU 1; the chain's kernel part runs in softirq on CPU 0 with the sender). Unlike the kernel VNF
# it has a queue (the TUN's) that an unpaced sender overruns: the kernel part is
# faster than the VNF, the rest is dropped at the TUN, and for SfcProxy every dropped packet
# leaves its cache entry behind until Cache:MaxAge. So the sender is paced (trafgen RATE) and each
# point is an offered rate on a ladder (--rates), reported as offered vs delivered and loss
# (1 - frames at the receiver / frames sent, the whole run). The no-loss rate of a system is the
# highest rung with < 0.1 % loss in every repeat (RFC 2544 style, on a ladder instead of a binary
# search: the ladder also shows what happens above it).
#
# The TUN queue is 2048 packets (txqueuelen; default 500): on a shared machine the VNF process is
# descheduled for milliseconds at a time, and a 500-packet queue then measures the scheduler, not
# the VNF's rate. The sender, preempted too, makes up for lost time in bursts of at most 1024
# frames (half that queue), so the offered rate holds on a busy CPU 0.
# SfcProxy's cache is sized for the rungs above capacity, where the VNF drops (README: size it for
# drops per second x MaxAge): Cache:Size 262144, Cache:MaxAge 0.5 s (sweeps every 0.25 s). The
# VNF holds a packet for at most its queue (2048 packets: 0.1 s at 20 kpps), below 0.5 s.

TUN_RATES_DEFAULT="20k 40k 60k 80k 100k 150k 200k 300k"
TUN_RATES_QUICK="50k 200k"
TUN_BATCH=32   # frames per paced test run: a 32-frame burst every 32/rate s
TUN_DRAIN=0.5  # s the counter waits after its window for the sender to finish and the VNF to empty
TUN_QUEUE=2048
TUN_BURST=1024 # frames the sender may send at once to make up for time it lost (half the TUN queue)

tun_start_vnf() {
	local cpu=(); [ "$(nproc)" -gt 1 ] && cpu=(taskset -c 1)
	ip netns exec "$PRX_NS" ip link set dev "$TUN_IF" txqueuelen "$TUN_QUEUE"
	ip netns exec "$PRX_NS" "${cpu[@]}" "$PY" "$repo/tests/e2e/tun_vnf.py" --tun "$TUN_IF" \
		--drop-udp-port "$VNF_DROP_PORT" > "$st/vnf.log" 2>&1 &
	echo $! > "$st/vnf.pid"
	for _ in $(seq 100); do grep -q READY "$st/vnf.log" 2>/dev/null && return 0; sleep 0.05; done
	cat "$st/vnf.log" >&2; die "tun_vnf.py not ready"
}

# "25k" -> 25000, "1.5M" -> 1500000
tun_rate() {
	awk -v r="$1" 'BEGIN { m = 1; if (r ~ /[kK]$/) m = 1e3; else if (r ~ /[mM]$/) m = 1e6; sub(/[kKmM]$/, "", r);
		if (r !~ /^[0-9.]+$/ || r * m < 1) exit 1; printf "%d\n", r * m }' || die "rate $1 (e.g. 50000, 50k, 1.5M)"
}

# $1 labels, $2 rate (pps), $3 warmup s, $4 seconds
#   -> "offered_pps delivered_pps sent received loss by_labels window_packets cpu_s"
tun_measure() {
	local labels="$1" rate="$2" warm="$3" secs="$4" cnt="$st/count.out" snd="$st/send.out"
	ip netns exec "$RCV_NS" "$st/trafgen" count "$st/lab.bpf.o" "$RCV_IF" "$warm" "$secs" "$TUN_DRAIN" > "$cnt" &
	local cp=$!
	for _ in $(seq 100); do grep -q READY "$cnt" 2>/dev/null && break; sleep 0.02; done
	local tot; tot=$(awk -v a="$warm" -v b="$secs" 'BEGIN{print a + b}')
	ip netns exec "$SND_NS" taskset -c 0 "$st/trafgen" send "$st/lab.bpf.o" "$SND_IF" "$SND_MAC" \
		"$PRX_IN_MAC" "$SND_IP4" "$RCV_IP4" "$labels" "$tot" "$TUN_BATCH" "$rate" "$TUN_BURST" > "$snd"
	wait "$cp"
	"$PY" - "$cnt" "$snd" <<'PY'
import json, sys
c = json.loads(open(sys.argv[1]).read().split("READY", 1)[1])
s = dict(kv.split("=") for kv in open(sys.argv[2]).read().split())
sent, got = int(s["sent"]), c["total"]
print(f'{float(s["pps"]):.0f} {c["pps"]:.0f} {sent} {got} {max(0.0, 1 - got / sent):.6f} '
      f'{json.dumps(c["by_labels"], separators=(",", ":"))} {c["packets"]} {s["cpu_s"]}')
PY
}

# $1 quick $2 labels $3 repeats $4 seconds $5 warmup $6 systems $7 out $8 rates $9 command line
tun_bench() {
	local quick="$1" labels="$2" repeats="$3" secs="$4" warm="$5" systems="$6" out="$7" rates="$8" cmdline="$9"
	if [ -z "$rates" ]; then
		rates="$TUN_RATES_DEFAULT"; [ "$quick" = 1 ] && rates="$TUN_RATES_QUICK"
	fi
	if [ "$quick" = 1 ]; then
		secs=0.7; warm=0.3
	elif [ "$labels" = "1 4 8 16" ]; then
		labels="1 16"   # lab.sh's default: the user-mode rows are about the VNF, two label counts show the trend
	fi
	local rl="" r
	for r in $rates; do rl="$rl $(tun_rate "$r")"; done
	rates="${rl# }"
	for l in $labels; do [[ "$l" =~ ^[0-9]+$ ]] && [ "$l" -ge 1 ] && [ "$l" -le 16 ] || die "labels 1..16"; done
	$PY -c 'import matplotlib' 2>/dev/null || die "missing python3-matplotlib (apt-get install -y python3-matplotlib)"
	if [[ " $systems " == *" header-hash "* ]] && [ ! -f "$dll" ]; then
		echo "note: no SfcProxy build ($dll): measuring the floor only (dotnet build SfcProxy/SfcProxy.csproj)"
		systems="floor"
	fi
	LAB_CACHE_JSON='{"Size": 262144, "MaxAge": "00:00:00.5"}'
	local name; name="vl$(printf '%04x%02x' $(($$ % 65536)) $((RANDOM % 256)))"
	local qtmp=""
	if [ -z "$out" ]; then
		if [ "$quick" = 1 ]; then qtmp="$(mktemp -d /tmp/vmlab-quick.XXXXXX)"; out="$qtmp"; else out="$here/results"; fi
	fi
	mkdir -p "$out"
	trap 'lab_down "'"$name"'"' EXIT
	trap 'exit 130' INT TERM
	lab_up "$name" tun
	local offl; offl="$(offloads_of)"
	local base=lab-pps-tun csv="$out/lab-pps-tun.csv"
	echo "run_id,utc,system,vnf,encap,labels,rep,rate,offered_pps,delivered_pps,sent,received,loss,expected_labels,ok_share,by_labels,window_packets,sender_cpu_s,load1" > "$csv"
	local per=0 total s l
	for s in $systems; do for r in $rates; do if [ "$s" = floor ]; then per=$((per + 1)); else for l in $labels; do per=$((per + 1)); done; fi; done; done
	total=$((per * repeats))
	echo "lab-bench $name: user-mode TUN VNF (tun_vnf.py), systems [$systems], labels [$labels], offered rates [$rates] pps, $repeats x ${secs}s (+${warm}s warm-up) per point"
	echo "offloads: $offl"
	echo "results -> $out"
	local start=$SECONDS k=0
	for r in $(seq 1 "$repeats"); do
		for s in $systems; do
			attach_mode "$s"
			local ls="$labels"; [ "$s" = floor ] && ls=0
			for l in $ls; do
				for rate in $rates; do
					k=$((k + 1))
					local el=$((SECONDS - start)) eta="?"
					[ "$k" -gt 1 ] && eta=$((el * (total - k + 1) / (k - 1)))
					local exp=$((l > 0 ? l - 1 : 0))
					printf '[%2d/%d] rep %d %-11s labels=%-2d offered %7d pps  elapsed %3ds  ETA %ss  ' "$k" "$total" "$r" "$s" "$l" "$rate" "$el" "$eta"
					local res off dlv sent got loss by wp cpu ok
					res="$(tun_measure "$l" "$rate" "$warm" "$secs")"
					read -r off dlv sent got loss by wp cpu <<< "$res"
					ok="$($PY -c 'import json,sys; b=json.loads(sys.argv[1]); n=int(sys.argv[2]); print("%.4f" % (b.get(sys.argv[3], 0) / n if n else 0))' "$by" "$wp" "$exp")"
					printf 'sent %7.0f pps, delivered %7.0f pps, loss %6.3f %%, %s with %d labels\n' "$off" "$dlv" \
						"$(awk -v x="$loss" 'BEGIN{print 100 * x}')" "$ok" "$exp"
					echo "$name,$(date -u +%FT%TZ),$s,tun,mpls,$l,$r,$rate,$off,$dlv,$sent,$got,$loss,$exp,$ok,\"${by//\"/\"\"}\",$wp,$cpu,$(cut -d' ' -f1 /proc/loadavg)" >> "$csv"
				done
			done
			detach_mode
		done
	done
	local el=$((SECONDS - start))
	echo "measured $total points in ${el}s"
	echo "VNF: $(kill -TERM "$(cat "$st/vnf.pid")" 2>/dev/null; sleep 0.5; tail -1 "$st/vnf.log")"
	$PY "$here/lab/tun_report.py" --csv "$csv" --out "$out" --base "$base" --command "$cmdline" --seconds "$el" \
		--kernel "$(uname -r)" --cpus "$(nproc)" --offloads "$offl"
	[ -n "$qtmp" ] && echo "quick-run results kept in $qtmp"
	return 0
}
