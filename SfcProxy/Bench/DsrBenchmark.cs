using System.Net;
using SfcProxy.Bpf;
using SfcProxy.Dsr;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Bench;

/// <summary>One DSR row: medians in ns per packet, against the empty XDP program on the same frames.</summary>
/// <param name="Encapsulated">Packets whose output IsEncapsulated checked: outer header and client packet.</param>
internal sealed record DsrBenchRow(string Path, double LbNs, double FloorNs, ulong Encapsulated, int Packets)
{
    public double FloorRatio => LbNs / FloorNs;
}

/// <summary>
/// Per-packet cost of the IP-in-IP DSR load balancer (dsr_lb) with BPF_PROG_TEST_RUN: one run per
/// distinct packet (a repeated run would measure the already encapsulated packet), beside the empty
/// XDP program. Paths: new flows (a TCP SYN: Maglev lookup, connection-table insert, MSS clamp),
/// established flows (connection-table hit), and established packets of a few flows, for IPv4 in
/// IPv4 and then IPv6 in IPv6 (an IPv6 VIP, an IPv6 backend, the IPv6 tables). The next hop
/// is static unless the caller asks for bpf_fib_lookup (then the rows say "+ FIB"). vm-lab/dsr-stages.sh runs
/// this against variants of dsr_lb cut after each stage (DSR_BENCH_STAGE).
/// </summary>
internal static class DsrBenchmark
{
    private static readonly IPAddress Vip = IPAddress.Parse("198.18.60.10");
    private static readonly IPAddress Vip6 = IPAddress.Parse("2001:2:60::10");

    /// <param name="objectDirectory">Where dsr_lb.bpf.o is; null: the build's.</param>
    /// <param name="fib">Next hop by bpf_fib_lookup instead of the static MAC: the network namespace
    /// must route the backends 198.18.62.1 and .2 with permanent neighbours and forward IPv4
    /// (vm-lab/dsr-stages.sh makes one); encapsulated packets then leave by XDP_REDIRECT.</param>
    /// <param name="nexthopMaxAgeMs">With <paramref name="fib"/>: the next-hop cache's age bound; 0: a FIB lookup per packet.</param>
    public static IReadOnlyList<DsrBenchRow> Run(int packets, string? objectDirectory, Action<string> progress, bool fib = false,
        uint nexthopMaxAgeMs = DsrLimits.NexthopDefaultMaxAgeMs)
    {
        var dir = ProxyObjects.DefaultObjectDirectory;
        using var empty = BpfObject.Open(Path.Combine(dir, BenchBpfNames.EmptyXdp.Object + ".bpf.o"), null);
        empty.Load();
        var floor = empty.Program(BenchBpfNames.EmptyXdp.Program);
        var pins = new BpfPins($"bench-{Environment.ProcessId}-dsr");
        try
        {
            using var lb = DsrObjects.Load(pins, objectDirectory, connectionEntries: (uint)Math.Max(packets * 2, 1024));
            var flags = !fib ? DsrConfigFlag.StaticNexthop : nexthopMaxAgeMs == 0 ? DsrConfigFlag.NoNexthopCache : 0;
            lb.WriteConfig(new DsrSettings(Source: IPAddress.Parse("198.18.61.1"), Flags: flags,
                NexthopMac: fib ? null : [0x02, 0, 0, 0, 0, 0x99], NexthopMaxAgeMs: nexthopMaxAgeMs, Source6: OuterSource6));
            lb.Apply(DsrTableBuilder.Build(
            [
                new DsrServiceConfig(Vip, 8080, 6, [new DsrBackendConfig(IPAddress.Parse("198.18.62.1")), new DsrBackendConfig(IPAddress.Parse("198.18.62.2"))]),
                new DsrServiceConfig(Vip6, 8080, 6, [.. Backends6.Select(b => new DsrBackendConfig(b))]),
            ]));

            progress($"dsr: {packets} new flows (SYN)");
            var syn = Measure(lb, floor, packets, i => Frame(i, flags: 0x02));
            progress($"dsr: {packets} established flows (ACK, connection table hit)");
            var ack = Measure(lb, floor, packets, i => Frame(i, flags: 0x10));
            progress($"dsr: {packets} packets of {HotFlows} established flows");
            var hot = Measure(lb, floor, packets, i => Frame(i % HotFlows, flags: 0x10));
            var fibNote = !fib ? "" : nexthopMaxAgeMs == 0 ? " + FIB per packet" : $" + FIB, next-hop cache {nexthopMaxAgeMs} ms";
            List<DsrBenchRow> rows =
            [
                new("new flow (SYN, Linux options): Maglev + conn insert + MSS clamp + encap" + fibNote, syn.Lb, syn.Floor, syn.Encapsulated, packets),
                new("established (ACK): conn hit + encap" + fibNote, ack.Lb, ack.Floor, ack.Encapsulated, packets),
                new($"established, {HotFlows} flows (conn table entries in cache)" + fibNote, hot.Lb, hot.Floor, hot.Encapsulated, packets),
            ];
            if (fib)
                return rows; // the FIB rows need IPv6 routes to the backends too; the static rows say what IPv6 costs
            progress($"dsr: {packets} IPv6 new flows (SYN)");
            var syn6 = Measure(lb, floor, packets, i => Frame6(i, flags: 0x02));
            progress($"dsr: {packets} IPv6 established flows (ACK)");
            var ack6 = Measure(lb, floor, packets, i => Frame6(i, flags: 0x10));
            progress($"dsr: {packets} packets of {HotFlows} IPv6 established flows");
            var hot6 = Measure(lb, floor, packets, i => Frame6(i % HotFlows, flags: 0x10));
            rows.Add(new("IPv6 new flow (SYN, Linux options): Maglev + conn insert + MSS clamp + IPv6 encap", syn6.Lb, syn6.Floor, syn6.Encapsulated, packets));
            rows.Add(new("IPv6 established (ACK): conn hit + IPv6 encap", ack6.Lb, ack6.Floor, ack6.Encapsulated, packets));
            rows.Add(new($"IPv6 established, {HotFlows} flows", hot6.Lb, hot6.Floor, hot6.Encapsulated, packets));
            return rows;
        }
        finally
        {
            pins.Remove();
        }
    }

    /// <summary>
    /// Flows of the hot row. The other rows give every packet its own flow, so each connection-table
    /// hit reads an entry no recent packet touched (a cache miss); this row shows the cost without.
    /// </summary>
    private const int HotFlows = 16;

    /// <summary>Flow i: client port 10000 + i. SYNs carry Linux's options (MSS first), as real ones do.</summary>
    private static byte[] Frame(int i, byte flags) =>
        Packet.Eth().IPv4("198.18.50.1", Vip.ToString(), id: (ushort)i)
            .Tcp((ushort)(10000 + i % 50000), 8080, seq: (uint)i, flags: flags,
                options: flags == 0x02 ? TcpOptions.LinuxSyn() : null).Payload(64).Build();

    /// <summary>IPv6 flow i: client port 10000 + i, TCP to the IPv6 VIP, the same payload as <see cref="Frame"/>.</summary>
    private static byte[] Frame6(int i, byte flags) =>
        Packet.Eth().IPv6("2001:2:50::1", Vip6.ToString(), flowLabel: (uint)i & 0xFFFFF)
            .Tcp((ushort)(10000 + i % 50000), 8080, seq: (uint)i, flags: flags,
                options: flags == 0x02 ? TcpOptions.LinuxSyn() : null).Payload(64).Build();

    private static (double Lb, double Floor, ulong Encapsulated) Measure(DsrObjects lb, BpfProgram floor, int packets, Func<int, byte[]> frame)
    {
        var lbNs = new double[packets];
        var floorNs = new double[packets];
        ulong encapsulated = 0;
        for (var i = 0; i < packets; i++)
        {
            var f = frame(i);
            floorNs[i] = ProxyTestRuns.RunXdp(floor, f).DurationNs;
            var r = ProxyTestRuns.RunXdp(lb.Program, f);
            lbNs[i] = r.DurationNs;
            if (r.Verdict is 3 /* XDP_TX */ or 4 /* XDP_REDIRECT */ && IsEncapsulated(f, r.Frame))
                encapsulated++;
        }
        return (Median(lbNs), Median(floorNs), encapsulated);
    }

    private static readonly byte[][] BackendAddresses = [IPAddress.Parse("198.18.62.1").GetAddressBytes(), IPAddress.Parse("198.18.62.2").GetAddressBytes()];
    private static readonly byte[] OuterSource = IPAddress.Parse("198.18.61.1").GetAddressBytes();
    private static readonly IPAddress OuterSource6 = IPAddress.Parse("2001:2:61::1");
    private static readonly IPAddress[] Backends6 = [IPAddress.Parse("2001:2:62::1"), IPAddress.Parse("2001:2:62::2")];

    /// <summary>
    /// The output is the input inside an outer IPv4 header (protocol 4, valid checksum, source
    /// 198.18.61.1, destination one of the backends, total length + 20) with the client's packet
    /// unchanged, but for a SYN's MSS value and TCP checksum (the clamp).
    /// </summary>
    private static bool IsEncapsulated(byte[] input, byte[] output) =>
        input[12] == 0x86 ? IsEncapsulated6(input, output) : IsEncapsulated4(input, output);

    /// <summary>The IPv6 input inside an outer IPv6 header (next header 41, source 2001:2:61::1, one of the
    /// backends, payload length the input's packet), unchanged but for a SYN's MSS value and checksum.</summary>
    private static bool IsEncapsulated6(byte[] input, byte[] output)
    {
        const int L2 = 14, Outer = 40, Tcp = L2 + 40;
        if (output.Length != input.Length + Outer || output[L2] >> 4 != 6 || output[L2 + 6] != 41 ||
            (output[L2 + 4] << 8 | output[L2 + 5]) != input.Length - L2 ||
            !output.AsSpan(L2 + 8, 16).SequenceEqual(OuterSource6.GetAddressBytes()) ||
            !Backends6.Any(b => output.AsSpan(L2 + 24, 16).SequenceEqual(b.GetAddressBytes())))
            return false;
        var syn = (input[Tcp + 13] & 0x12) == 0x02;
        for (var i = L2; i < input.Length; i++)
        {
            var clampable = syn && (i is Tcp + 16 or Tcp + 17 or Tcp + 22 or Tcp + 23);
            if (input[i] != output[i + Outer] && !clampable)
                return false;
        }
        return true;
    }

    private static bool IsEncapsulated4(byte[] input, byte[] output)
    {
        const int L2 = 14, Outer = 20, Tcp = L2 + 20;
        if (output.Length != input.Length + Outer || output[L2] != 0x45 || output[L2 + 9] != 4)
            return false;
        var outer = output.AsSpan(L2, Outer);
        uint sum = 0;
        for (var i = 0; i < Outer; i += 2)
            sum += (uint)(outer[i] << 8 | outer[i + 1]);
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        var innerLength = input[L2 + 2] << 8 | input[L2 + 3];
        var destination = outer[16..20].ToArray();
        if (sum != 0xffff || (outer[2] << 8 | outer[3]) != innerLength + Outer || !outer[12..16].SequenceEqual(OuterSource) ||
            !BackendAddresses.Any(b => destination.AsSpan().SequenceEqual(b)))
            return false;
        var syn = (input[Tcp + 13] & 0x12) == 0x02;
        for (var i = L2; i < input.Length; i++)
        {
            var clampable = syn && (i is Tcp + 16 or Tcp + 17 or Tcp + 22 or Tcp + 23); // checksum, MSS value (first option)
            if (input[i] != output[i + Outer] && !clampable)
                return false;
        }
        return true;
    }

    private static double Median(double[] v)
    {
        Array.Sort(v);
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    public static string ToMarkdown(IReadOnlyList<DsrBenchRow> rows)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| dsr_lb path | dsr_lb ns | empty XDP ns | dsr_lb / empty | encapsulated |");
        sb.AppendLine("|---|---:|---:|---:|---:|");
        foreach (var r in rows)
            sb.AppendLine($"| {r.Path} | {r.LbNs:0} | {r.FloorNs:0} | {r.FloorRatio:0.00}x | {r.Encapsulated}/{r.Packets} |");
        return sb.ToString();
    }
}
