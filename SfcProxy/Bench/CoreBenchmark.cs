using System.Diagnostics;
using SfcProxy.Bpf;
using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Bench;

/// <summary>One row of the core benchmark: medians in ns per packet.</summary>
/// <param name="Headers">What the frames carry: "mpls", "nsh md1", "nsh md2 252 B".</param>
/// <param name="Labels">MPLS stack depth (0 for NSH).</param>
internal sealed record CoreBenchRow(KeyMode Mode, string Headers, int Labels, double RxNs, double TxNs, double FloorNs, long Restored, int Packets)
{
    public double RoundTripNs => RxNs + TxNs;
    /// <summary>Round trip over the empty XDP + empty tc floor measured in the same run.</summary>
    public double FloorRatio => RoundTripNs / FloorNs;
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

    /// <param name="sampleEvery">Latency sampling written into the config (LatencySampleEvery; 1
    /// records every packet, to see what recording costs).</param>
    public static (IReadOnlyList<CoreBenchRow> Rows, IReadOnlyList<StageRow> Stages) Run(int packets,
        IReadOnlyList<int> labelCounts, uint sampleEvery, Action<string> progress)
    {
        var dir = ProxyObjects.DefaultObjectDirectory;
        using var emptyXdp = BpfObject.Open(Path.Combine(dir, BenchBpfNames.EmptyXdp.Object + ".bpf.o"), null);
        using var emptyTc = BpfObject.Open(Path.Combine(dir, BenchBpfNames.EmptyTc.Object + ".bpf.o"), null);
        emptyXdp.Load();
        emptyTc.Load();

        var floorXdp = emptyXdp.Program(BenchBpfNames.EmptyXdp.Program);
        var floorTc = emptyTc.Program(BenchBpfNames.EmptyTc.Program);
        var rows = new List<CoreBenchRow>();
        var stages = new List<StageRow>();
        foreach (var mode in new[] { KeyMode.Metadata, KeyMode.HeaderHash })
        {
            var pins = new BpfPins($"bench-{Environment.ProcessId}-{mode}".ToLowerInvariant());
            try
            {
                using var proxy = ProxyObjects.Load(pins, mode, (uint)Math.Max(packets, 1024));
                proxy.WriteConfig(new SfcConfig { KeyMode = (uint)mode, MissPolicy = (uint)MissPolicy.Drop, ConsumedSegments = 1, AcceptedEncaps = SfcLimits.AcceptAll, LatencySampleEvery = sampleEvery });
                foreach (var labels in labelCounts)
                {
                    progress($"{mode,-10} {labels,2} labels: {packets} distinct packets");
                    rows.Add(Measure(proxy, mode, "mpls", labels, Packet.Eth().Labels(labels), packets, floorXdp, floorTc));
                }
                foreach (var (name, nsh) in NshHeaders)
                {
                    progress($"{mode,-10} {name}: {packets} distinct packets");
                    rows.Add(Measure(proxy, mode, name, 0, nsh, packets, floorXdp, floorTc));
                }
                progress($"{mode,-10} stages: {packets} plain packets");
                stages.AddRange(MeasureStages(proxy, mode, packets, sampleEvery));
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
    /// push cost.
    /// </summary>
    private static IEnumerable<StageRow> MeasureStages(ProxyObjects proxy, KeyMode mode, int packets, uint sampleEvery)
    {
        proxy.WriteConfig(new SfcConfig { KeyMode = (uint)mode, MissPolicy = (uint)MissPolicy.Pass, ConsumedSegments = 1, AcceptedEncaps = SfcLimits.AcceptAll, LatencySampleEvery = sampleEvery });
        var rx = new double[packets];
        var tx = new double[packets];
        for (var i = 0; i < packets; i++)
        {
            var frame = Packet.Eth().IPv4(id: (ushort)i).Tcp(seq: (uint)i * 1448).Payload(64).Build();
            rx[i] = proxy.RunRx(frame).DurationNs;
            tx[i] = proxy.RunTx(frame).DurationNs;
        }
        proxy.WriteConfig(new SfcConfig { KeyMode = (uint)mode, MissPolicy = (uint)MissPolicy.Drop, ConsumedSegments = 1, AcceptedEncaps = SfcLimits.AcceptAll, LatencySampleEvery = sampleEvery });
        yield return new StageRow(mode, "xdp_rx, no SFC header (parse Ethernet, count)", Median(rx));
        yield return new StageRow(mode, "tc_tx, miss + pass (parse IP, build key, look up)", Median(tx));
    }

    /// <summary>NSH rows: MD type 1, and MD type 2 at the largest header (Length 63 = 252 bytes).</summary>
    private static readonly (string Name, Packet Prefix)[] NshHeaders =
    [
        ("nsh md1", Packet.Eth().Nsh(spi: 100, si: 200, ttl: 40, context: new byte[16])),
        ("nsh md2 252 B", Packet.Eth().Nsh(spi: 100, si: 200, ttl: 40, mdType: 2,
            tlvs: [new NshTlv(1, 1, new byte[120]), new NshTlv(2, 2, new byte[116])])),
    ];

    private static CoreBenchRow Measure(ProxyObjects proxy, KeyMode mode, string headers, int labels, Packet prefix, int packets,
        BpfProgram emptyXdp, BpfProgram emptyTc)
    {
        var rx = new double[packets];
        var tx = new double[packets];
        var floor = new double[packets];
        var before = Restored(proxy);
        for (var i = 0; i < packets; i++)
        {
            var frame = prefix.IPv4(id: (ushort)i).Tcp(seq: (uint)i * 1448).Payload(64).Build();
            var floorRx = ProxyTestRuns.RunXdp(emptyXdp, frame);
            var popped = proxy.RunRx(frame);
            var floorTx = ProxyTestRuns.RunTc(emptyTc, popped.Frame);
            var restored = proxy.RunTx(popped.Frame, popped.MetaKey ?? 0);
            rx[i] = popped.DurationNs;
            tx[i] = restored.DurationNs;
            floor[i] = floorRx.DurationNs + floorTx.DurationNs;
        }
        var done = (long)(Restored(proxy) - before);
        return new CoreBenchRow(mode, headers, labels, Median(rx), Median(tx), Median(floor), done, packets);
    }

    /// <summary>Packets tc_tx gave their headers back to (with or without labels left to push).</summary>
    private static ulong Restored(ProxyObjects proxy)
    {
        var c = proxy.ReadCounters();
        return c[Counter.TxRestored] + c[Counter.TxRestoredLast];
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        var n = values.Length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static string ModeName(KeyMode mode) => OptionValues.KeyModes.NameOf(mode);

    /// <summary>The results as the markdown table committed under vm-lab/results/.</summary>
    public static string ToMarkdown(IReadOnlyList<CoreBenchRow> rows, IReadOnlyList<StageRow> stages)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| key mode | headers | xdp_rx ns | tc_tx ns | round trip ns | empty floor ns | round trip / floor | vs 1 label | restored |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            var one = rows.FirstOrDefault(x => x.Mode == r.Mode && x.Headers == "mpls" && x.Labels == 1);
            var vsOne = one is null || r.Headers != "mpls" ? "" : $"{r.RoundTripNs / one.RoundTripNs:0.00}x";
            var headers = r.Headers == "mpls" ? $"mpls {r.Labels} label{(r.Labels == 1 ? "" : "s")}" : r.Headers;
            sb.AppendLine($"| {ModeName(r.Mode)} | {headers} | {r.RxNs:0} | {r.TxNs:0} | {r.RoundTripNs:0} | {r.FloorNs:0} | {r.FloorRatio:0.00}x | {vsOne} | {r.Restored}/{r.Packets} |");
        }
        sb.AppendLine().AppendLine("Paths without cache work, same run (medians, ns):").AppendLine();
        sb.AppendLine("| key mode | path | ns |").AppendLine("|---|---|---:|");
        foreach (var s in stages)
            sb.AppendLine($"| {ModeName(s.Mode)} | {s.Stage} | {s.Ns:0} |");
        return sb.ToString();
    }
}
