using System.Diagnostics;
using System.Globalization;
using System.Text;
using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Options;
using SfcProxy.Tests.Proxy.Datapath.Srv6;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>
/// The round-trip property test of issue 11: episodes of random packets through the real xdp_rx,
/// a modelled VNF and the real tc_tx (BPF_PROG_TEST_RUN, the calling thread pinned to one CPU),
/// every run judged against the contract, the counters read after every run.
/// </summary>
/// <remarks>
/// Reproducing: SFCPROXY_CONTRACT_SEED=&lt;seed&gt; gives the same packets, behaviours and order (no
/// random draw depends on what the datapath answers). Timing decides only which held packets are
/// past MaxAge, and those are allowed a miss either way.
/// </remarks>
internal sealed class ContractRun
{
    /// <summary>Fixed so that a run is reproducible; SFCPROXY_CONTRACT_SEED overrides it.</summary>
    public const int DefaultSeed = 0x0C0A_7AC7;

    /// <summary>Cache:Size. Metadata mode: 2 rings of 2048 slots on this VM, far more than the packets
    /// in flight, so a refusal is acceptable only where the judge says the cache can be full.</summary>
    public const uint CacheSize = 4096;

    /// <summary>Metadata mode's Cache:MaxAge: short, so that held packets age while the run goes on,
    /// but longer than an episode (a packet in the VNF for less than this must be restored).</summary>
    public const ulong MetaMaxAgeNs = 10_000_000;

    /// <summary>Srv6:Sids: one SID serving IPv4, IPv6 and Ethernet, one serving IPv4 only (the shape
    /// generator sends to both, and IPv6 to the second for rx_srv6_bad_inner).</summary>
    public static readonly Srv6Options Sids = Srv6Sids.Default;

    /// <summary>Episodes between configuration changes.</summary>
    private const int ConfigEvery = 400;

    /// <summary>Violations printed per kind in the failure message (all are counted).</summary>
    private const int ExamplesPerKind = 4;

    /// <summary>Characters of each field of an example in the failure message.</summary>
    private const int ExampleWidth = 700;

    private const int Cpu = 0;

    private readonly KeyMode _mode;
    private readonly MetaFingerprint _fingerprint;
    private readonly int _packets;

    public ContractRun(KeyMode mode, int packets, MetaFingerprint fingerprint = MetaFingerprint.Strict)
    {
        _mode = mode;
        _fingerprint = fingerprint;
        _packets = packets;
        Seed = ReadSeed();
    }

    public int Seed { get; }

    /// <summary>Frames given to xdp_rx per key mode: 100,000 (issue 11); SFCPROXY_CONTRACT_PACKETS
    /// changes it for a quicker or a longer run (the summary says how many ran).</summary>
    public static int PacketsPerMode() =>
        int.TryParse(Environment.GetEnvironmentVariable("SFCPROXY_CONTRACT_PACKETS"), out var n) && n > 0 ? n : 100_000;

    /// <summary>
    /// A run without violations passes only if it reached what it is meant to judge: every family
    /// and VNF behaviour, and the restore, last-segment, TTL, SI and miss outcomes.
    /// </summary>
    public static void AssertCoverage(ContractRun run, Judge judge)
    {
        var s = judge.Stats;
        foreach (var family in new[] { "udp-same-checksum", "tcp-same-seq", "nat-t-keepalives", "icmpv6-echo-no-data", "tcp-behind-extension-headers",
                     "udp-behind-extension-headers", "retransmission", "identical-other-headers", "nat-onto-dropped", "fragments-other-headers", "family fragments",
                     "malformed", "ipv6+ext", "+options", "short", "/eth" })
            Assert.IsGreaterThan(0L, s.Reached("rx", family), $"{run.Where}: no input of kind '{family}' reached xdp_rx");
        foreach (var behaviour in new[] { "forward", "bridge", "duplicate", "hold", "rewrite DSCP/ECN", "rewrite IP TTL", "clamp MSS", "NAT",
                     "mark", "reassemble, output", "reassemble, refragment", "originate" })
            Assert.IsGreaterThan(0L, s.Reached("tx", behaviour), $"{run.Where}: no emission of behaviour '{behaviour}' reached tc_tx");
        foreach (var outcome in new[] { Counter.TxRestored, Counter.TxRestoredLast, Counter.TxTtlExpired, Counter.TxSiExhausted })
            Assert.IsTrue(s.TxByBehaviour.Values.Any(r => r.ContainsKey(outcome.ToString())), $"{run.Where}: tc_tx never counted {outcome}");
        // SRv6 (docs/srv6.md): every inner type popped, every bad case counted, restored and expired at the egress
        foreach (var kind in new[] { "Srv6 ipv4", "Srv6 ipv6", "Srv6/eth", "Srv6 family" })
            Assert.IsTrue(s.RxByKind.Any(kv => kv.Key.StartsWith(kind, StringComparison.Ordinal) && kv.Value.ContainsKey(nameof(Counter.RxPopped))),
                $"{run.Where}: no '{kind}' input was popped");
        foreach (var outcome in new[] { Counter.RxSrv6NotSrh, Counter.RxSrv6SlZero, Counter.RxSrv6BadSrh, Counter.RxSrv6BadLength,
                     Counter.RxSrv6TooLong, Counter.RxSrv6BadTlv, Counter.RxSrv6BadInner, Counter.RxSrv6NoSrh, Counter.RxSrv6NotSid })
            Assert.IsTrue(s.RxByKind.Values.Any(r => r.ContainsKey(outcome.ToString())), $"{run.Where}: xdp_rx never counted {outcome}");
        foreach (var outcome in new[] { Counter.TxRestored, Counter.TxTtlExpired })
            Assert.IsTrue(s.TxByEncap.TryGetValue(nameof(Encapsulation.Srv6), out var r) && r.ContainsKey(outcome.ToString()),
                $"{run.Where}: tc_tx never counted {outcome} for an SRv6 packet");
        Assert.IsGreaterThan(s.Emissions / 2, s.MustRestore, $"{run.Where}: most emissions must be ones that have to be restored");
    }

    public string Where => $"{_mode}{(_mode == KeyMode.Metadata ? $" ({_fingerprint} fingerprint)" : "")}, seed {Seed} (SFCPROXY_CONTRACT_SEED={Seed} reproduces)";

    public (Judge Judge, string Summary) Run()
    {
        Assert.IsGreaterThanOrEqualTo(1, CpuAffinity.Online);
        using var proxy = new ProxyUnderTest(_mode, cacheSize: CacheSize, metaMaxAgeNs: MetaMaxAgeNs, srv6: Sids);
        var capacity = _mode == KeyMode.Metadata ? (int)MetadataSlots.PerRing(MetadataSlots.Capacity(CacheSize)) : (int)CacheSize;
        var judge = new Judge(_mode, MetaMaxAgeNs, capacity);
        var rng = new Random(unchecked(Seed * 31 + (int)_mode));
        var planner = new Planner(new ShapeGenerator(rng), _mode, _fingerprint);
        var counters = new CounterReader(proxy.Objects.Counters);
        var aging = _mode == KeyMode.HeaderHash ? new CacheAging(proxy.Objects) : null;
        var clock = Stopwatch.StartNew();
        long rxRuns = 0, txRuns = 0, notEmitted = 0, sweeps = 0;
        var episode = 0;
        EgressConfig cfg = null!;
        if (!proxy.Objects.Config.TryLookup(0u, out SfcConfig loaded))
            Assert.Fail($"{Where}: the loaded proxy has no config entry");

        CpuAffinity.On(Cpu, () =>
        {
            counters.Delta();
            for (; rxRuns < _packets; episode++)
            {
                if (episode % ConfigEvery == 0)
                {
                    var (raw, egress) = planner.Config(loaded, MetaMaxAgeNs, Sids);
                    proxy.Objects.WriteConfig(raw);
                    cfg = egress;
                }
                var plan = planner.Next(episode);
                ulong cutoff = 0;
                foreach (var step in plan.Steps)
                {
                    switch (step)
                    {
                        case RxStep rx:
                            {
                                var x = rx.Packet;
                                x.RxStartNs = MonotonicClock.NowNs();
                                var run = Kernel(judge, episode, x.Describe(), () => proxy.Rx(x.Frame));
                                x.RxEndNs = MonotonicClock.NowNs();
                                rxRuns++;
                                if (run is { } r)
                                {
                                    x.Rx = r;
                                    judge.Rx(x, r, counters.Delta(), cfg, episode);
                                }
                                break;
                            }
                        case EmitStep { Emission: var em }:
                            {
                                if (em.Needs.Any(n => !n.Popped))
                                {
                                    notEmitted++; // not popped (not accepted, or refused): the VNF never had it
                                    break;
                                }
                                var first = em.Copies is null || em.Copies.Emitted++ == 0;
                                Emitted out1;
                                try
                                {
                                    out1 = em.Make();
                                }
                                catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
                                {
                                    judge.Violations.Add(new Violation("VNF input", episode, em.Source?.Describe() ?? em.Behaviour,
                                        "what xdp_rx handed the VNF makes its packet", e.Message, ""));
                                    break;
                                }
                                var start = MonotonicClock.NowNs();
                                var run = Kernel(judge, episode, em.Source?.Describe() ?? em.Behaviour, () => proxy.Tx(out1.Frame, out1.Mark));
                                txRuns++;
                                if (run is { } t)
                                    judge.Tx(em, out1, first, t, counters.Delta(), cfg, episode, start);
                                break;
                            }
                        case CutoffStep:
                            cutoff = MonotonicClock.NowNs();
                            break;
                        case SweepStep:
                            aging!.SweepOlderThan(cutoff);
                            judge.Swept(cutoff);
                            sweeps++;
                            break;
                    }
                }
            }
        });

        var summary = new StringBuilder()
            .AppendLine($"{Where}: {rxRuns} frames to xdp_rx, {txRuns} to tc_tx in {episode} episodes, {clock.Elapsed.TotalSeconds:F1} s; " +
                $"{notEmitted} planned emissions not made (their packet was not popped: encapsulation not accepted, or refused), {planner.Held} still held at the end, {sweeps} aging sweeps")
            .Append(judge.Stats.Format())
            .AppendLine($"counters over the run: {Judge.Format(counters.Total())}")
            .ToString();
        return (judge, summary);
    }

    /// <summary>The failure message: every kind of violation with its count and first examples.</summary>
    public string Report(Judge judge)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"{Where}: {judge.Violations.Count} contract violations");
        foreach (var kind in judge.Violations.GroupBy(v => v.Kind).OrderByDescending(g => g.Count()))
        {
            var groups = kind.GroupBy(v => System.Text.RegularExpressions.Regex.Replace(FamilyOf(v.Packet), @"(0x[0-9a-f]+|#?\d+)", "N"))
                .OrderByDescending(g => g.Count()).ToList();
            sb.AppendLine($"== {kind.Key}: {kind.Count()} ({string.Join(", ", groups.Select(g => $"{g.Key} {g.Count()}"))})");
            // the first violation of each of the largest groups: the different ways this went wrong
            foreach (var v in groups.Take(ExamplesPerKind).Select(g => g.First()))
                sb.AppendLine(v.Format(ExampleWidth));
        }
        var file = Environment.GetEnvironmentVariable("SFCPROXY_CONTRACT_REPORT");
        if (!string.IsNullOrWhiteSpace(file))
        {
            File.WriteAllLines(file, judge.Violations.Select(v => v.ToString()));
            sb.AppendLine($"every violation, frames in full: {file}");
        }
        else
        {
            sb.AppendLine("SFCPROXY_CONTRACT_REPORT=<file> writes every violation with its frames in full.");
        }
        return sb.ToString();
    }

    /// <summary>The family and the VNF behaviour a violation's packet description names (for grouping).</summary>
    private static string FamilyOf(string packet)
    {
        var family = "";
        var f = packet.IndexOf("| family ", StringComparison.Ordinal);
        if (f >= 0)
        {
            var rest = packet[(f + 9)..];
            var end = rest.IndexOf(" |", StringComparison.Ordinal);
            family = (end < 0 ? rest : rest[..end]) + " / ";
        }
        var b = packet.IndexOf("[this frame: ", StringComparison.Ordinal);
        return family + (b >= 0 ? packet[(b + 13)..].TrimEnd(']').Split(", output")[0] : "(at ingress)");
    }

    /// <summary>A run the kernel refuses is a violation naming the frame, never an exception that ends the test.</summary>
    private static T? Kernel<T>(Judge judge, int episode, string what, Func<T> run) where T : struct
    {
        try
        {
            return run();
        }
        catch (BpfException e)
        {
            judge.Violations.Add(new Violation("kernel refused the test run", episode, what, "BPF_PROG_TEST_RUN runs it", e.Message, ""));
            return null;
        }
    }

    private static int ReadSeed() => TestSeed.From("SFCPROXY_CONTRACT_SEED", DefaultSeed);
}

/// <summary>
/// The per-CPU counters read after every run, as deltas. Reads the counters the loaded map has: on
/// a datapath older than the C# enum the newer counters read as never moved.
/// </summary>
internal sealed class CounterReader(BpfMap map)
{
    private readonly uint _present = Math.Min((uint)Counter.Max, map.MaxEntries);
    private readonly ulong[] _start = Read(map, Math.Min((uint)Counter.Max, map.MaxEntries));
    private ulong[] _last = Read(map, Math.Min((uint)Counter.Max, map.MaxEntries));

    public ulong[] Delta()
    {
        var now = Read(map, _present);
        var d = new ulong[now.Length];
        for (var i = 0; i < d.Length; i++)
            d[i] = now[i] - _last[i];
        _last = now;
        return d;
    }

    public ulong[] Total()
    {
        var d = new ulong[_last.Length];
        for (var i = 0; i < d.Length; i++)
            d[i] = _last[i] - _start[i];
        return d;
    }

    private static ulong[] Read(BpfMap map, uint present)
    {
        var v = new ulong[(int)Counter.Max];
        for (uint c = 0; c < present; c++)
            v[c] = map.Sum(c);
        return v;
    }
}
