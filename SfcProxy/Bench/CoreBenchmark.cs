using System.Diagnostics;
using SfcProxy.Bpf;
using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Options;

namespace SfcProxy.Bench;

/// <summary>Mean, median and 99th percentile of per-packet ns.</summary>
internal readonly record struct NsStats(double Mean, double Median, double P99)
{
    public static NsStats Of(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var n = sorted.Length;
        var median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new NsStats(sorted.Average(), median, sorted[Math.Max((int)Math.Ceiling(n * 0.99) - 1, 0)]);
    }

    public override string ToString() => $"{Mean:0} / {Median:0} / {P99:0}";
}

/// <summary>One row of the core benchmark: per-packet ns of the datapath, of the static proxy
/// (static_pop + static_push: the job's own limit) and of the empty programs, on the same frames.</summary>
/// <param name="Headers">What the frames carry: "mpls", "nsh md1", "nsh md2 252 B", "srv6 4 segments".</param>
/// <param name="Labels">MPLS stack depth (0 for NSH and SRv6).</param>
/// <param name="StaticSame">Packets whose static round trip left exactly the frame the datapath's did.</param>
/// <param name="Slot">The least per-packet cache (slot_cache: the static proxy plus one slot per packet written at
/// pop and read at push, no claim, no check): what touching a slot costs here, beside what the static proxy costs.</param>
internal sealed record CoreBenchRow(KeyMode Mode, string Headers, int Labels, NsStats Rx, NsStats Tx, NsStats RoundTrip,
    NsStats Static, NsStats Floor, long Restored, long StaticSame, int Packets, NsStats Slot)
{
    /// <summary>Round trip over the static proxy's, mean over mean.</summary>
    public double StaticMeanRatio => RoundTrip.Mean / Static.Mean;
    /// <summary>Round trip over the static proxy's, median over median.</summary>
    public double StaticMedianRatio => RoundTrip.Median / Static.Median;
    /// <summary>The least per-packet cache over the static proxy, median over median.</summary>
    public double SlotMedianRatio => Slot.Median / Static.Median;
    /// <summary>Round trip over the empty XDP + empty tc floor measured in the same run (medians).</summary>
    public double FloorRatio => RoundTrip.Median / Floor.Median;
}

/// <summary>Median ns of one stage of the datapath, for "where the time goes".</summary>
internal sealed record StageRow(KeyMode Mode, string Stage, double Ns);

/// <summary>
/// Per-packet cost of xdp_rx and tc_tx measured in the kernel with BPF_PROG_TEST_RUN on distinct
/// packets (IP id and TCP seq vary, so every packet really inserts into and deletes from the cache),
/// side by side with an empty XDP and an empty tc program on the same frames. Absolute numbers on a
/// shared machine are noise; the ratios are the result.
/// </summary>
internal static class CoreBenchmark
{
    /// <summary>sfc_config.coarse_clock as the daemon sets it for the default Cache:MaxAge.</summary>
    private static readonly uint DefaultCoarseClock = BpfProxyDatapath.CoarseClockFor(new CacheOptions().MaxAge) ? 1u : 0u;

    /// <param name="sampleEvery">Latency sampling written into the config (LatencySampleEvery; 1
    /// records every packet, to see what recording costs).</param>
    /// <param name="rawDirectory">If set, every row's per-packet ns go to a CSV file there (packet, rx, tx,
    /// static, empty), to look at a tail rather than a summary of it.</param>
    /// <param name="srv6Only">Only the SRv6 rows (no MPLS, NSH or stage rows): a shorter run for A/B tests of the
    /// SRv6 path.</param>
    /// <param name="only">If set, only the rows whose "key mode headers" name starts with it ("metadata mpls 4",
    /// "header-hash nsh"), and no stage rows: one path alone, for a profiler (vm-lab/prog-profile.sh).</param>
    public static (IReadOnlyList<CoreBenchRow> Rows, IReadOnlyList<StageRow> Stages) Run(int packets,
        IReadOnlyList<int> labelCounts, uint sampleEvery, Action<string> progress, string? rawDirectory = null, bool srv6Only = false,
        string? only = null)
    {
        bool Wanted(KeyMode mode, string headers) =>
            only is null || $"{ModeName(mode)} {headers}".StartsWith(only, StringComparison.Ordinal);
        var dir = ProxyObjects.DefaultObjectDirectory;
        using var emptyXdp = BpfObject.Open(Path.Combine(dir, BenchBpfNames.EmptyXdp.Object + ".bpf.o"), null);
        using var emptyTc = BpfObject.Open(Path.Combine(dir, BenchBpfNames.EmptyTc.Object + ".bpf.o"), null);
        using var staticPop = BpfObject.Open(Path.Combine(dir, BenchBpfNames.StaticPop.Object + ".bpf.o"), null);
        using var staticPush = BpfObject.Open(Path.Combine(dir, BenchBpfNames.StaticPush.Object + ".bpf.o"), null);
        emptyXdp.Load();
        emptyTc.Load();
        staticPop.Load();
        staticPush.Load();
        var limit = new StaticProxy(staticPop.Program(BenchBpfNames.StaticPop.Program),
            staticPush.Program(BenchBpfNames.StaticPush.Program), staticPush.Map(BenchBpfNames.Maps.StaticHeader));
        using var slotCache = BpfObject.Open(Path.Combine(dir, BenchBpfNames.SlotCache.Object + ".bpf.o"), null);
        slotCache.Load();
        // touched once before measuring, as the datapath's slots are at load (its slot is as big as
        // their entry, 528 bytes, so the same zero write fits)
        MetadataSlots.Prefault(slotCache.Map(BenchBpfNames.Maps.SlotRing));
        var slot = new SlotCache(slotCache.Program(BenchBpfNames.SlotCache.SlotPop), slotCache.Program(BenchBpfNames.SlotCache.SlotPush));

        var floorXdp = emptyXdp.Program(BenchBpfNames.EmptyXdp.Program);
        var floorTc = emptyTc.Program(BenchBpfNames.EmptyTc.Program);
        var rows = new List<CoreBenchRow>();
        var stages = new List<StageRow>();
        foreach (var mode in new[] { KeyMode.Metadata, KeyMode.HeaderHash })
        {
            var pins = new BpfPins($"bench-{Environment.ProcessId}-{mode}".ToLowerInvariant());
            try
            {
                // the cache size a user gets by default in this mode: the slot ring's size decides how
                // warm a claimed slot is in the CPU's caches
                using var proxy = ProxyObjects.Load(pins, mode, (uint)(mode == KeyMode.Metadata ? CacheOptions.DefaultMetadataSize : CacheOptions.DefaultSize));
                proxy.WriteConfig(Config(mode, MissPolicy.Drop, sampleEvery));
                foreach (var labels in srv6Only ? [] : labelCounts)
                {
                    if (!Wanted(mode, $"mpls {labels} label{(labels == 1 ? "" : "s")}"))
                        continue;
                    progress($"{mode,-10} {labels,2} labels: {packets} distinct packets");
                    rows.Add(Measure(proxy, mode, "mpls", labels, Packet.Eth().Labels(labels), packets, floorXdp, floorTc, limit, slot, rawDirectory));
                }
                foreach (var (name, prefix) in srv6Only ? Srv6Headers : [.. NshHeaders, .. Srv6Headers])
                {
                    if (!Wanted(mode, name))
                        continue;
                    progress($"{mode,-10} {name}: {packets} distinct packets");
                    rows.Add(Measure(proxy, mode, name, 0, prefix, packets, floorXdp, floorTc, limit, slot, rawDirectory));
                }
                if (only is not null)
                    continue;
                progress($"{mode,-10} stages: {packets} plain packets");
                stages.AddRange(MeasureStages(proxy, mode, packets, sampleEvery, srv6Only));
            }
            finally
            {
                pins.Remove();
            }
        }
        return (rows, stages);
    }

    /// <summary>
    /// The programs' paths that do no cache work, on plain IPv4/TCP frames: xdp_rx sees no SFC
    /// encapsulation (Ethernet parse only); tc_tx with miss policy pass parses IP, builds the key
    /// and misses the lookup. Set against the full rows, they show what the cache and the
    /// push cost. With SRv6 accepted, xdp_rx on plain IPv6 (to an address that is no proxy SID) pays
    /// the SID match on top of the Ethernet parse. srv6Only: the xdp_rx rows alone.
    /// </summary>
    private static IEnumerable<StageRow> MeasureStages(ProxyObjects proxy, KeyMode mode, int packets, uint sampleEvery, bool srv6Only)
    {
        proxy.WriteConfig(Config(mode, MissPolicy.Pass, sampleEvery));
        var rx = new double[packets];
        var tx = new double[packets];
        var rx6 = new double[packets];
        for (var i = 0; i < packets; i++)
        {
            var frame = Packet.Eth().IPv4(id: (ushort)i).Tcp(seq: (uint)i * 1448).Payload(64).Build();
            rx[i] = proxy.RunRx(frame).DurationNs;
            rx6[i] = proxy.RunRx(Packet.Eth().IPv6(flowLabel: (uint)i).Tcp(seq: (uint)i * 1448).Payload(64).Build()).DurationNs;
            if (!srv6Only)
                tx[i] = proxy.RunTx(frame).DurationNs;
        }
        proxy.WriteConfig(Config(mode, MissPolicy.Drop, sampleEvery));
        yield return new StageRow(mode, "xdp_rx, no SFC header (parse Ethernet, count)", NsStats.Of(rx).Median);
        yield return new StageRow(mode, "xdp_rx, IPv6 to no proxy SID (parse Ethernet, SID match, count)", NsStats.Of(rx6).Median);
        if (!srv6Only)
            yield return new StageRow(mode, "tc_tx, miss + pass (parse IP, build key, look up)", NsStats.Of(tx).Median);
    }

    /// <summary>NSH rows: MD type 1, and MD type 2 at the largest header (Length 63 = 252 bytes).</summary>
    private static readonly (string Name, Packet Prefix)[] NshHeaders =
    [
        ("nsh md1", Packet.Eth().Nsh(spi: 100, si: 200, ttl: 40, context: new byte[16])),
        ("nsh md2 252 B", Packet.Eth().Nsh(spi: 100, si: 200, ttl: 40, mdType: 2,
            tlvs: [new NshTlv(1, 1, new byte[120]), new NshTlv(2, 2, new byte[116])])),
    ];

    /// <summary>The proxy SID the SRv6 rows are sent to (the lab's, vm-lab/lab/srv6_lab.h).</summary>
    private const string Srv6Sid = "2001:2:ff::100";

    /// <summary>The datapath's config for a run: every encapsulation taken off, one proxy SID for inner IPv4.</summary>
    private static SfcConfig Config(KeyMode mode, MissPolicy miss, uint sampleEvery) => Srv6Config.Encode(
        new Srv6Options { Sids = [new Srv6SidOptions { Sid = Srv6Sid, Inner = [Srv6Inner.IPv4] }] },
        new SfcConfig { KeyMode = (uint)mode, MissPolicy = (uint)miss, ConsumedSegments = 1, AcceptedEncaps = SfcLimits.AcceptAll, LatencySampleEvery = sampleEvery, CoarseClock = DefaultCoarseClock });

    /// <summary>
    /// SRv6 rows, the lab's srv6-N and srv6-N-t frames (vm-lab/lab/trafgen.c): an outer IPv6 header to the proxy SID
    /// and a reduced SRH of N segments (Segments Left N), inner IPv4; srv6-4-t adds the lab's 56 bytes of TLVs (an
    /// HMAC TLV, an opaque TLV of 8 bytes, a PadN of 4).
    /// </summary>
    private static readonly (string Name, Packet Prefix)[] Srv6Headers =
    [
        ("srv6 1 segment", Srv6(1, [])),
        ("srv6 4 segments", Srv6(4, [])),
        ("srv6 16 segments", Srv6(16, [])),
        ("srv6 4 segments + 56 B TLVs", Srv6(4, [5, 38, 0, 0, 0, 0, 0, 1, .. Enumerable.Range(0, 32).Select(i => (byte)(0xC0 + i)),
            124, 8, .. Enumerable.Repeat((byte)0x7C, 8), 4, 4, 0, 0, 0, 0])),
    ];

    private static Packet Srv6(int segments, byte[] tlvs) => Packet.Eth()
        .IPv6(src: "2001:2:1::1", dst: Srv6Sid, hopLimit: 64)
        .Srh((byte)segments, [.. Enumerable.Range(0, segments).Select(j => $"2001:2:e::{segments - j:x}")], tlvs);

    /// <summary>The static proxy: its two programs and the map holding the header static_push pushes.</summary>
    private sealed record StaticProxy(BpfProgram Pop, BpfProgram Push, BpfMap Header);

    /// <summary>The least per-packet cache (bpf/bench/slot_cache.bpf.c): pops into a slot, pushes from it.</summary>
    private sealed record SlotCache(BpfProgram Pop, BpfProgram Push);

    /// <summary>STATIC_MAX_HDR of bpf/bench/static_push.bpf.c: the largest SRv6 header set.</summary>
    private const int StaticMaxHeader = SfcLimits.Srv6MaxLength;

    /// <summary>static_push_hdr's value (bpf/bench/static_push.bpf.c).</summary>
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private unsafe struct StaticHeader
    {
        public uint Length;
        public ushort Proto; // network byte order
        public ushort Reserved;
        public fixed byte Eth[14];
        public fixed byte Header[StaticMaxHeader];
        public fixed byte Pad[2];
    }

    /// <summary>
    /// Gives static_push the header the datapath pushes back for frames like <paramref name="frame"/>
    /// (what its tc_tx added in front of the popped packet, found by one round trip), so both do
    /// the same job and their frames can be compared byte for byte.
    /// </summary>
    private static unsafe void SetStaticHeader(ProxyObjects proxy, StaticProxy limit, byte[] frame)
    {
        var popped = proxy.RunRx(frame);
        var restored = proxy.RunTx(popped.Frame, popped.MetaKey ?? 0);
        var grow = restored.Frame.Length - popped.Frame.Length;
        if (grow < 0 || grow > StaticMaxHeader)
            throw new InvalidOperationException($"bench: the datapath pushed {grow} bytes, static_push holds 0..{StaticMaxHeader}");
        var h = new StaticHeader { Length = (uint)grow, Proto = (ushort)(restored.Frame[12] | restored.Frame[13] << 8) };
        for (var i = 0; i < grow; i++)
            h.Header[i] = restored.Frame[14 + i];
        limit.Header.Update(0u, h);
    }

    private static CoreBenchRow Measure(ProxyObjects proxy, KeyMode mode, string headers, int labels, Packet prefix, int packets,
        BpfProgram emptyXdp, BpfProgram emptyTc, StaticProxy limit, SlotCache slotCache, string? rawDirectory)
    {
        SetStaticHeader(proxy, limit, prefix.IPv4(id: 65535).Tcp(seq: 1).Payload(64).Build());
        var rx = new double[packets];
        var tx = new double[packets];
        var roundTrip = new double[packets];
        var statics = new double[packets];
        var floor = new double[packets];
        var slots = new double[packets];
        long same = 0, slotSame = 0;
        var before = Restored(proxy);
        for (var i = 0; i < packets; i++)
        {
            var frame = prefix.IPv4(id: (ushort)i).Tcp(seq: (uint)i * 1448).Payload(64).Build();
            // interleaved per packet, so a slower moment of the machine hits every column alike
            var floorRx = ProxyTestRuns.RunXdp(emptyXdp, frame);
            var staticRx = ProxyTestRuns.RunXdp(limit.Pop, frame);
            var popped = proxy.RunRx(frame);
            var floorTx = ProxyTestRuns.RunTc(emptyTc, popped.Frame);
            var staticTx = ProxyTestRuns.RunTc(limit.Push, staticRx.Frame);
            var restored = proxy.RunTx(popped.Frame, popped.MetaKey ?? 0);
            var slotRx = ProxyTestRuns.RunXdp(slotCache.Pop, frame);
            var slotTx = ProxyTestRuns.RunTc(slotCache.Push, slotRx.Frame, slotRx.MetaKey ?? 0);
            slots[i] = slotRx.DurationNs + slotTx.DurationNs;
            // as long as ours, and the packet inside left as it came
            var inner = popped.Frame.Length - 14;
            if (slotTx.Frame.Length == restored.Frame.Length && slotTx.Frame.AsSpan(slotTx.Frame.Length - inner).SequenceEqual(frame.AsSpan(frame.Length - inner)))
                slotSame++;
            rx[i] = popped.DurationNs;
            tx[i] = restored.DurationNs;
            roundTrip[i] = rx[i] + tx[i];
            statics[i] = staticRx.DurationNs + staticTx.DurationNs;
            floor[i] = floorRx.DurationNs + floorTx.DurationNs;
            if (staticTx.Frame.AsSpan().SequenceEqual(restored.Frame))
                same++;
        }
        var done = (long)(Restored(proxy) - before);
        // its job is the static proxy's: every frame back as long as ours, the packet inside unchanged (a stick
        // that fails its job measures nothing)
        if (slotSame != packets)
            throw new InvalidOperationException($"bench: slot_cache gave {packets - slotSame} of {packets} {headers} frames back wrong");
        if (rawDirectory is not null)
        {
            Directory.CreateDirectory(rawDirectory);
            var name = $"{ModeName(mode)}-{headers}{(labels > 0 ? $"-{labels}" : "")}".Replace(' ', '-');
            File.WriteAllLines(Path.Combine(rawDirectory, name + ".csv"),
                Enumerable.Range(0, packets).Select(i => $"{i},{rx[i]},{tx[i]},{statics[i]},{floor[i]}").Prepend("packet,rx,tx,static,empty"));
        }
        return new CoreBenchRow(mode, headers, labels, NsStats.Of(rx), NsStats.Of(tx), NsStats.Of(roundTrip),
            NsStats.Of(statics), NsStats.Of(floor), done, same, packets, NsStats.Of(slots));
    }

    /// <summary>Packets tc_tx gave their headers back to (with or without labels left to push).</summary>
    private static ulong Restored(ProxyObjects proxy)
    {
        var c = proxy.ReadCounters();
        return c[Counter.TxRestored] + c[Counter.TxRestoredLast];
    }

    private static string ModeName(KeyMode mode) => OptionValues.KeyModes.NameOf(mode);

    /// <summary>The results as the markdown table committed under vm-lab/results/.</summary>
    public static string ToMarkdown(IReadOnlyList<CoreBenchRow> rows, IReadOnlyList<StageRow> stages)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("Per-packet ns as mean / median / p99. Static: static_pop + static_push (pop the stack, push the same bytes back, no cache), the job's own limit; empty: an empty XDP + an empty tc program. Ratios: round trip over static, mean over mean and median over median. Slot: the least per-packet cache (slot_cache: the static proxy plus one slot of a 4,096-slot ring written at pop and read at push, no claim, no check), and its median over static's: what the memory a per-packet cache touches costs here.").AppendLine();
        sb.AppendLine("| key mode | headers | xdp_rx | tc_tx | round trip | static | empty | / static (mean) | / static (median) | vs 1 label (mean, median) | restored | static frame = ours | slot | slot / static (median) |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var one = rows.FirstOrDefault(x => x.Mode == r.Mode && x.Headers == "mpls" && x.Labels == 1);
            var vsOne = one is null || r.Headers != "mpls" ? "" :
                $"{r.RoundTrip.Mean / one.RoundTrip.Mean:0.00}x, {r.RoundTrip.Median / one.RoundTrip.Median:0.00}x";
            var headers = r.Headers == "mpls" ? $"mpls {r.Labels} label{(r.Labels == 1 ? "" : "s")}" : r.Headers;
            sb.AppendLine($"| {ModeName(r.Mode)} | {headers} | {r.Rx} | {r.Tx} | {r.RoundTrip} | {r.Static} | {r.Floor} | " +
                $"{r.StaticMeanRatio:0.00}x | {r.StaticMedianRatio:0.00}x | {vsOne} | {r.Restored}/{r.Packets} | {r.StaticSame}/{r.Packets} | {r.Slot} | {r.SlotMedianRatio:0.00}x |");
        }
        sb.AppendLine().AppendLine("Paths without cache work, same run (medians, ns):").AppendLine();
        sb.AppendLine("| key mode | path | ns |").AppendLine("|---|---|---:|");
        foreach (var s in stages)
            sb.AppendLine($"| {ModeName(s.Mode)} | {s.Stage} | {s.Ns:0} |");
        return sb.ToString();
    }
}
