using System.Diagnostics;
using System.Globalization;
using System.Net;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Options;
using SfcProxy.Tests.Proxy.Datapath.Contract;
using SfcProxy.Tests.Proxy.Datapath.Srv6;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// Random and mutated frames through the real xdp_rx and tc_tx in the kernel (BPF_PROG_TEST_RUN).
/// The fixtures show that the datapath does the right thing on the packets we thought of; this
/// shows that on anything else it still gives a documented verdict (never XDP_ABORTED, which
/// drops silently and hides a bug), never makes the kernel refuse the run, and counts every
/// packet in exactly one outcome counter of its program, which the daemon's statistics rely on.
/// </summary>
/// <remarks>
/// Reproducing a failure: every message names the seed; run with SFCPROXY_FUZZ_SEED=&lt;seed&gt;.
/// The frame sequence depends on the seed alone (no random draw depends on a kernel result), so
/// the failing frame comes back; the metadata keys contain the CPU number, so which cache entry a
/// stolen mark hits can differ between runs.
/// </remarks>
[TestClass]
public sealed class FuzzTests
{
    /// <summary>Frames given to xdp_rx per key mode; tc_tx gets about 1.5 times as many.</summary>
    private const int FramesPerMode = 100_000;

    /// <summary>Fixed so that a run is reproducible; SFCPROXY_FUZZ_SEED overrides it.</summary>
    private const int DefaultSeed = 0x5FC0_F022;

    /// <summary>
    /// Small enough that the stacks of popped packets whose egress we skip (1 in 20) fill it late
    /// in the run, so cache-full (a valid outcome) is fuzzed too without starving the rest. Since
    /// xdp_rx honours accepted_encaps, the config blocks that turn MPLS off (3 in 8) pop nothing,
    /// and about 1500 entries are left behind per run: 1536 was no longer reached.
    /// </summary>
    private const uint CacheSize = 1024;

    /// <summary>ifindex of lo, the one device every network namespace has.</summary>
    private const uint LoopbackIfindex = 1;

    /// <summary>
    /// BPF_PROG_TEST_RUN refuses (EINVAL) data shorter than an Ethernet header, for XDP and skb
    /// programs alike (bpf_test_init: size &lt; ETH_HLEN), so no real driver or stack can hand the
    /// programs such a frame either: truncation never goes below this.
    /// </summary>
    private const int MinFrame = 14;

    /// <summary>
    /// Well below what the XDP test run takes in one linear buffer (a page minus headroom and
    /// skb_shared_info, about 3.5 KiB); tc_tx may add 16 labels on top.
    /// </summary>
    private const int MaxFrame = 1600;

    /// <summary>
    /// Whether BPF_PROG_TEST_RUN takes the frame for a tc program. Besides the Ethernet minimum,
    /// the skb test run (6.x) refuses with EINVAL a frame whose outer ethertype is IPv4 or IPv6
    /// when fewer than 20 / 40 bytes follow the Ethernet header (it checks the fixed L3 header
    /// of skb->protocol as eth_type_trans() set it; IHL, version and VLAN-tagged frames are not
    /// looked at). Measured on 6.18 with an empty tc program: IPv4 ethertype, 33 bytes EINVAL,
    /// 34 bytes runs; IPv6 ethertype, 53 bytes EINVAL, 54 runs; any other ethertype from 14.
    /// Such frames are skipped for tc_tx (and not counted), not padded: the egress of a truncated
    /// IP header is still fuzzed behind a VLAN tag, where the test run does not look, and in the
    /// IP headers that are complete but shorter than their IHL or length fields say.
    /// </summary>
    private static bool TcTestRunTakes(byte[] frame) => ((frame[12] << 8) | frame[13]) switch
    {
        0x0800 => frame.Length >= 14 + 20,
        0x86DD => frame.Length >= 14 + 40,
        _ => true,
    };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void MetadataMode() => Fuzz(KeyMode.Metadata);

    [TestMethod]
    public void HeaderHashMode() => Fuzz(KeyMode.HeaderHash);

    private void Fuzz(KeyMode mode)
    {
        var seed = Seed();
        var rng = new Random(unchecked(seed + (int)mode * 7919));
        var gen = new FrameFuzzer(rng);
        var where = $"{mode}, seed {seed} (SFCPROXY_FUZZ_SEED={seed} reproduces)";
        using var proxy = new ProxyUnderTest(mode, cacheSize: CacheSize);

        var recentKeys = new uint[64];
        byte[]? previous = null;
        long rxFrames = 0, txFrames = 0, txSkipped = 0;
        var rxVerdicts = new long[5];
        var txVerdicts = new long[3];
        var clock = Stopwatch.StartNew();

        for (var i = 0; i < FramesPerMode; i++)
        {
            // Vary what tc_tx does with the packets: every miss policy, consumed segments from 0
            // (push the whole stack) to more than any stack (restored-last), and static stacks
            // up to a count beyond the 16 slots, which the datapath must bound on its own.
            // Half of the blocks with the VNF port set (to lo, which exists everywhere), so popped
            // packets take the XDP_REDIRECT path; the test run only returns the verdict.
            if (i % 1000 == 0)
            {
                proxy.Objects.WriteConfig(gen.Config(mode));
                if (rng.Next(2) == 0)
                    proxy.Objects.VnfPort.Update(0u, LoopbackIfindex);
                else
                    proxy.Objects.VnfPort.Delete(0u);
            }

            // 1 in 20 is sent twice (a retransmission, a duplicated datagram): in header-hash mode
            // the copy joins the cached entry, which takes the reference counting through its paths.
            var frame = rng.Next(20) == 0 && previous is not null ? previous : gen.Frame();
            previous = frame;
            var rx = Run(() => proxy.Rx(frame), where, i, "xdp_rx", frame, null, 0);
            rxFrames++;
            Assert.IsTrue(rx.Verdict is ProxyTestRuns.XdpDrop or ProxyTestRuns.XdpPass or ProxyTestRuns.XdpRedirect,
                $"{where}: frame {i}: xdp_rx verdict {rx.Verdict} (0 = XDP_ABORTED); frame {Hex(frame)}");
            rxVerdicts[rx.Verdict]++;

            // xdp_rx only ever takes whole label stack entries off (MPLS), at most an outer Ethernet
            // header with two tags and the largest NSH header (NSH) or the largest SRv6 header set
            // (SRv6); a popped packet is the only one that shrinks; in metadata mode exactly the
            // popped ones carry a key.
            var passed = rx.Verdict != ProxyTestRuns.XdpDrop;
            var popped = passed && rx.Frame.Length < frame.Length;
            if (passed)
            {
                var removed = frame.Length - rx.Frame.Length;
                var mpls = OuterEtherType(frame) == 0x8847;
                var most = mpls ? 4 * SfcLimits.MaxLabels : OuterEtherType(frame) == 0x86DD ? MaxSrv6Removed : MaxNshGrowth + 8;
                Assert.IsTrue(removed >= 0 && removed <= most && (!mpls || removed % 4 == 0),
                    $"{where}: frame {i}: xdp_rx removed {removed} bytes of a {(mpls ? "MPLS" : "non-MPLS")} frame; frame {Hex(frame)}");
                if (mode == KeyMode.Metadata)
                    Assert.AreEqual(popped, rx.MetaKey is { } k && (k & SfcLimits.DefaultMarkMask) != 0,
                        $"{where}: frame {i}: popped {popped} but metadata key {rx.MetaKey}; frame {Hex(frame)}");
            }
            if (rx.MetaKey is { } key)
                recentKeys[i % recentKeys.Length] = key;

            // The egress of the popped packet, half of the time after a VNF hop (new MACs, TTL - 1);
            // 1 in 20 is left in the cache, as for packets the VNF drops, until the cache fills.
            // The random numbers are drawn whatever the verdict, so the sequence depends on the
            // seed alone.
            var egress = rng.Next(20) != 0;
            var vnfHop = rng.Next(2) == 0;
            var gso = rng.Next(20) == 0 ? (uint)rng.Next(1, 9000) : 0u;
            if (passed && egress && !TcTestRunTakes(rx.Frame))
            {
                txSkipped++;
            }
            else if (passed && egress)
            {
                var out1 = popped && vnfHop ? KernelVnf.Forward(rx.Frame) : rx.Frame;
                var mark = rx.MetaKey ?? 0;
                txVerdicts[RunTx(proxy, out1, mark, gso, where, i, "tc_tx (xdp_rx output)", popped ? frame : null)]++;
                txFrames++;
            }

            // Frames the VNF (or the host) could emit that never passed xdp_rx, with random marks:
            // none, foreign marks, ones with bits in the key field and keys of packets still cached.
            if (rng.Next(2) == 0)
            {
                var other = gen.Frame();
                var mark = rng.Next(5) switch
                {
                    0 => 0u,
                    1 => (uint)rng.Next(),
                    2 => (uint)rng.Next() | 0x1_0000u,
                    3 => recentKeys[rng.Next(recentKeys.Length)],
                    _ => SfcLimits.DefaultMarkMask,
                };
                var gso2 = rng.Next(20) == 0 ? (uint)rng.Next(1, 65536) : 0u;
                if (TcTestRunTakes(other))
                {
                    txVerdicts[RunTx(proxy, other, mark, gso2, where, i, "tc_tx (independent)")]++;
                    txFrames++;
                }
                else
                {
                    txSkipped++;
                }
            }
        }

        var moved = proxy.Moved();
        TestContext.WriteLine($"{where}: {rxFrames} frames to xdp_rx, {txFrames} to tc_tx ({txSkipped} the tc test run would refuse skipped) in {clock.Elapsed.TotalSeconds:F1} s; "
            + $"xdp_rx drop/pass/redirect {rxVerdicts[ProxyTestRuns.XdpDrop]}/{rxVerdicts[ProxyTestRuns.XdpPass]}/{rxVerdicts[ProxyTestRuns.XdpRedirect]}, "
            + $"tc_tx ok/shot {txVerdicts[ProxyTestRuns.TcOk]}/{txVerdicts[ProxyTestRuns.TcShot]}; "
            + $"cache {proxy.CacheEntries}/{CacheSize}; counters: {XdpRxFixtureTests.Format(moved)}");

        Assert.AreEqual((ulong)rxFrames, XdpRxFixtureTests.OutcomeSum(moved, "Rx"),
            $"{where}: every xdp_rx run must count exactly one RX_* outcome; counters: {XdpRxFixtureTests.Format(moved)}");
        Assert.AreEqual((ulong)txFrames, XdpRxFixtureTests.OutcomeSum(moved, "Tx"),
            $"{where}: every tc_tx run must count exactly one TX_* outcome; counters: {XdpRxFixtureTests.Format(moved)}");
        Assert.AreEqual(0ul, XdpRxFixtureTests.OutcomeSum(moved, "Mark"), $"{where}: meta_mark never ran");

        // A generator that only produced garbage would pass the sums trivially: the run must have
        // reached the interesting outcomes of both programs.
        foreach (var c in new[]
                 {
                     Counter.RxPopped, Counter.RxNotSfc, Counter.RxTruncated, Counter.RxTooManyLabels,
                     Counter.RxNotIp, Counter.RxCacheFull, Counter.TxRestored, Counter.TxRestoredLast,
                     Counter.TxNotIp, Counter.TxMissDrop, Counter.TxMissPass, Counter.TxMissStatic,
                     Counter.TxTtlExpired, Counter.TxGso, Counter.TxMalformed, Counter.LabelsPopped, Counter.LabelsPushed,
                     Counter.RxNshBadVersion, Counter.RxNshBadMdType, Counter.RxNshBadLength, Counter.RxNshBadNextProto,
                     Counter.RxNshBadTlv, Counter.TxSiExhausted, Counter.NshPopped, Counter.NshRestored,
                     Counter.RxSrv6NotSid, Counter.RxSrv6NoSrh, Counter.RxSrv6NotSrh, Counter.RxSrv6SlZero, Counter.RxSrv6BadSrh,
                     Counter.RxSrv6BadLength, Counter.RxSrv6TooLong, Counter.RxSrv6BadTlv, Counter.RxSrv6BadInner,
                     Counter.Srv6Popped, Counter.Srv6Restored,
                 })
            Assert.IsTrue(moved.GetValueOrDefault(c) > 0, $"{where}: the fuzz never reached {c}; counters: {XdpRxFixtureTests.Format(moved)}");
        // Duplicate keys exist in header-hash mode only; metadata slots are taken over instead.
        var modeCounter = mode == KeyMode.HeaderHash ? Counter.RxDuplicateKey : Counter.MetaAgedOut;
        Assert.IsTrue(moved.GetValueOrDefault(modeCounter) > 0, $"{where}: the fuzz never reached {modeCounter}");
        foreach (var v in new[] { ProxyTestRuns.XdpDrop, ProxyTestRuns.XdpPass, ProxyTestRuns.XdpRedirect })
            Assert.IsTrue(rxVerdicts[v] > 0, $"{where}: xdp_rx never returned verdict {v}");
        foreach (var v in new[] { ProxyTestRuns.TcOk, ProxyTestRuns.TcShot })
            Assert.IsTrue(txVerdicts[v] > 0, $"{where}: tc_tx never returned verdict {v}");
    }

    /// <param name="popped">The frame xdp_rx popped <paramref name="frame"/> from, if it did: an SRv6
    /// header set pushed back must be the one taken off it (<see cref="Srv6ForeignBytes"/>).</param>
    private static uint RunTx(ProxyUnderTest proxy, byte[] frame, uint mark, uint gso, string where, int i, string role, byte[]? popped = null)
    {
        var tx = Run(() => proxy.Tx(frame, mark, gso), where, i, role, frame, mark, gso);
        var ctx = $"{where}: frame {i}, {role}, mark 0x{mark:X8}, gso_size {gso}: frame {Hex(frame)}";
        Assert.IsTrue(tx.Verdict is ProxyTestRuns.TcOk or ProxyTestRuns.TcShot, $"{ctx}: tc verdict {tx.Verdict}");
        // tc_tx only ever pushes whole label stack entries (at most a full stack), an NSH header or
        // an SRv6 header set (outer IPv6 + extension headers), with at most a new outer Ethernet header.
        var grown = tx.Frame.Length - frame.Length;
        var most = tx.Verdict == ProxyTestRuns.TcOk && tx.Frame.Length >= 14 && OuterEtherType(tx.Frame) == 0x86DD ? MaxSrv6Growth : MaxNshGrowth;
        Assert.IsTrue(grown >= 0 && grown <= most, $"{ctx}: output grew by {grown} bytes; output {Hex(tx.Frame)}");
        if (popped is not null && tx.Verdict == ProxyTestRuns.TcOk && Srv6ForeignBytes(popped, frame, tx.Frame) is { } foreign)
            Assert.Fail($"{ctx}: {foreign}; xdp_rx input {Hex(popped)}; output {Hex(tx.Frame)}");
        return tx.Verdict;
    }

    /// <summary>An outer Ethernet header and the largest NSH header (Length 63).</summary>
    private const int MaxNshGrowth = 14 + 63 * 4;

    /// <summary>A new outer Ethernet header and the largest SRv6 header set (SFC_SRV6_MAX_LEN).</summary>
    private const int MaxSrv6Growth = 14 + SfcLimits.Srv6MaxLength;

    /// <summary>An outer Ethernet header with two tags (inner Ethernet: the VNF gets the inner frame) and the largest SRv6 header set.</summary>
    private const int MaxSrv6Removed = 22 + SfcLimits.Srv6MaxLength;

    /// <summary>
    /// For a packet xdp_rx popped, when tc_tx put an IPv6 header set in front of the VNF's packet
    /// (behind its L2 header, or behind a new Ethernet header for inner Ethernet): what in it the
    /// packet did not arrive with, or null. docs/srv6.md: the header set xdp_rx took off, byte for
    /// byte, but Segments Left - 1, destination = a segment of its own SRH (Segment List[SL - 1]),
    /// hop limit - 1 and the payload length of the VNF's packet (its IP packet by its length field, or
    /// its frame for inner Ethernet). Null too when nothing IPv6 was pushed.
    /// </summary>
    private static string? Srv6ForeignBytes(byte[] input, byte[] vnfFrame, byte[] output)
    {
        var grown = output.Length - vnfFrame.Length;
        if (grown < 40 || OuterEtherType(output) != 0x86DD || OuterEtherType(input) != 0x86DD)
            return null;
        var overEth = output.AsSpan(grown).SequenceEqual(vnfFrame) && grown >= 54;
        var at = overEth ? 14 : Wire.L2Length(output);
        var n = overEth ? grown - 14 : grown;
        var inAt = Wire.L2Length(input);
        if (inAt + n > input.Length)
            return $"pushed {n} header bytes, the input had {input.Length - inAt} after its L2 header";
        var was = input.AsSpan(inAt, n);
        var now = output.AsSpan(at, n);
        // the SRH in what the packet arrived with: behind hop-by-hop / destination options headers
        var (next, srh) = (was[6], 40);
        for (var k = 0; k < 4 && next is 0 or 60 && srh + 8 <= n; k++)
            (next, srh) = (was[srh], srh + (was[srh + 1] + 1) * 8);
        if (next != 43 || srh + 8 > n)
            return "the pushed header set has no SRH where the input had one";
        for (var b = 0; b < n; b++)
        {
            if (b is 4 or 5 or 7 || b is >= 24 and < 40 || b == srh + 3)
                continue;
            if (now[b] != was[b])
                return $"header byte {b} is 0x{now[b]:X2}, arrived as 0x{was[b]:X2}";
        }
        if (now[7] != was[7] - 1)
            return $"hop limit {now[7]}, arrived as {was[7]}";
        if (now[srh + 3] != was[srh + 3] - 1)
            return $"Segments Left {now[srh + 3]}, arrived as {was[srh + 3]}";
        var seg = srh + 8 + 16 * now[srh + 3];
        if (seg + 16 > n || !now[24..40].SequenceEqual(was.Slice(seg, 16)))
            return "destination is not Segment List[Segments Left - 1] of the packet's own SRH";
        // what follows: the VNF's whole frame (inner Ethernet), or its IP packet by its length field
        // when that ends before the frame does (Ethernet padding, or bytes the length field leaves out)
        var following = vnfFrame.Length - (overEth ? 0 : at);
        if (!overEth && following >= 4)
        {
            var ip = vnfFrame.AsSpan(at);
            var byField = ip[0] >> 4 == 4 ? ip[2] << 8 | ip[3] : following >= 6 ? 40 + (ip[4] << 8 | ip[5]) : following;
            following = Math.Min(following, byField);
        }
        var plen = now[4] << 8 | now[5];
        if (plen != n - 40 + following)
            return $"payload length {plen}, the headers and the VNF's packet make {n - 40 + following}";
        return null;
    }

    /// <summary>The ethertype after up to two VLAN tags: what xdp_rx dispatches on.</summary>
    private static int OuterEtherType(byte[] f)
    {
        var off = 12;
        for (var tags = 0; tags < 2 && off + 2 <= f.Length && (f[off] << 8 | f[off + 1]) is 0x8100 or 0x88A8; tags++)
            off += 4;
        return off + 2 <= f.Length ? f[off] << 8 | f[off + 1] : -1;
    }

    /// <summary>A kernel error (the test run refusing the frame, a program that cannot run) fails with the reproducer.</summary>
    private static T Run<T>(Func<T> run, string where, int i, string role, byte[] frame, uint? mark, uint gso)
    {
        try
        {
            return run();
        }
        catch (Exception e)
        {
            Assert.Fail($"{where}: frame {i}, {role} (mark {mark}, gso_size {gso}) threw {e.GetType().Name}: {e.Message}; frame {Hex(frame)}");
            throw; // unreachable: Assert.Fail throws
        }
    }

    private static string Hex(byte[] frame) => Convert.ToHexString(frame);

    private static int Seed() => TestSeed.From("SFCPROXY_FUZZ_SEED", DefaultSeed);

    /// <summary>
    /// Frames for the fuzz: valid SFC and plain frames from the builder, the same mutated, and
    /// pure random bytes. Lengths are always between <see cref="MinFrame"/> and <see cref="MaxFrame"/>.
    /// </summary>
    private sealed class FrameFuzzer(Random rng)
    {
        /// <summary>Ethertypes the parsers branch on, so random ones hit every branch often.</summary>
        private static readonly ushort[] EtherTypes = [0x8847, 0x8100, 0x88A8, 0x0800, 0x86DD];

        public byte[] Frame()
        {
            var kind = rng.Next(100);
            if (kind < 10)
                return RandomBytes();
            var f = Valid();
            if (kind < 50)
                return f;
            var mutations = 1 + rng.Next(3);
            for (var m = 0; m < mutations; m++)
                f = Mutate(f);
            return f;
        }

        public SfcConfig Config(KeyMode mode)
        {
            var config = new SfcConfig
            {
                KeyMode = (uint)mode,
                MissPolicy = (uint)rng.Next(3),
                // mostly 1 (one segment per VNF), sometimes the edges
                ConsumedSegments = rng.Next(4) switch { 0 => 0u, 1 => (uint)rng.Next(0, SfcLimits.MaxLabels + 4), _ => 1u },
                StaticLabelCount = (uint)rng.Next(0, SfcLimits.MaxLabels + 3),
                // mostly everything; sometimes one encapsulation only, or none
                AcceptedEncaps = rng.Next(8) switch { 0 => 0u, 1 => 1u << (int)Encapsulation.Mpls, 2 => 1u << (int)Encapsulation.Nsh, _ => SfcLimits.AcceptAll },
                // metadata slots: never taken over (the ring fills: cache full), taken over as soon
                // as their ring comes round (aged out), or after an hour (full again)
                MetaMaxAgeNs = rng.Next(3) switch { 0 => 0UL, 1 => 1UL, _ => 3_600_000_000_000UL },
            };
            if (rng.Next(8) == 0)
                config.AcceptedEncaps = 1u << (int)Encapsulation.Srv6;
            for (var i = 0; i < SfcLimits.MaxLabels; i++)
                unsafe { config.StaticLabels[i] = (uint)rng.Next() ^ ((uint)rng.Next(2) << 31); }
            // The SIDs of every SRv6 test (one for every inner type, one for IPv4 only); no static
            // SRv6 header, so an IPv6 header tc_tx pushes on a popped packet can only be its own.
            return Srv6Config.Encode(Srv6Sids.Default, config);
        }

        /// <summary>A well-formed frame: 0-2 VLAN tags, 0-18 labels, IPv4/IPv6 (or not IP) inside.</summary>
        private byte[] Valid()
        {
            var p = Packet.Eth(Mac(), Mac());
            var vlans = rng.Next(3);
            for (var v = 0; v < vlans; v++)
                p = p.Vlan((ushort)rng.Next(4096), rng.Next(2) == 0 ? (ushort)0x8100 : (ushort)0x88A8, (byte)rng.Next(8));

            p = rng.Next(12) switch { < 4 => Nsh(p), < 7 => Srv6(p), _ => Mpls(p) };

            var payload = Bytes(rng.Next(4) == 0 ? rng.Next(0, 16) : rng.Next(0, 1300));
            switch (rng.Next(10))
            {
                case < 5:
                    p = p.IPv4(Address(4), Address(4), (ushort)rng.Next(65536), (byte)rng.Next(256),
                        rng.Next(4) == 0 ? (byte)rng.Next(256) : null,
                        rng.Next(4) == 0 ? (ushort)rng.Next(65536) : (ushort)0x4000,
                        (byte)rng.Next(256), rng.Next(8) == 0 ? (byte)rng.Next(5, 16) : (byte)5);
                    break;
                case < 9:
                    p = p.IPv6(Address(16), Address(16), (uint)rng.Next(1 << 20), (byte)rng.Next(256),
                        rng.Next(4) == 0 ? (byte)rng.Next(256) : null, (byte)rng.Next(256));
                    break;
                default:
                    return p.Payload(payload).Build(); // not IP after the stack (or at all)
            }
            p = rng.Next(4) switch
            {
                0 => p.Tcp((ushort)rng.Next(65536), (ushort)rng.Next(65536), (uint)rng.Next() * 2u, (uint)rng.Next(), (byte)rng.Next(256)),
                1 => p.Udp((ushort)rng.Next(65536), (ushort)rng.Next(65536)),
                2 => p.IcmpEcho((ushort)rng.Next(65536), (ushort)rng.Next(65536)),
                _ => p, // "other": the protocol number says 253, the payload follows the IP header
            };
            return Clamp(p.Payload(payload).Build());
        }

        private Packet Mpls(Packet p)
        {
            var labels = rng.Next(4) == 0 ? 0 : rng.Next(1, SfcLimits.MaxLabels + 3);
            var randomBos = rng.Next(8) == 0; // mostly a proper stack, sometimes S bits anywhere
            for (var l = 0; l < labels; l++)
                p = p.Mpls((uint)rng.Next(1 << 20), (byte)rng.Next(256), (byte)rng.Next(8),
                    randomBos ? rng.Next(2) == 0 : l == labels - 1);
            return p;
        }

        /// <summary>An NSH header: mostly well formed MD1/MD2, sometimes any version, MD type, Length or next protocol.</summary>
        private Packet Nsh(Packet p)
        {
            var odd = rng.Next(4) == 0;
            var mdType = odd ? (byte)rng.Next(16) : (byte)rng.Next(1, 3);
            var tlvs = Enumerable.Range(0, rng.Next(0, 8))
                .Select(_ => new NshTlv((ushort)rng.Next(65536), (byte)rng.Next(256), Bytes(rng.Next(0, 28)))).ToArray();
            p = p.Nsh((uint)rng.Next(1 << 24), (byte)rng.Next(256), (byte)rng.Next(64), mdType,
                mdType == 1 ? Bytes(16) : null, tlvs, oam: rng.Next(8) == 0,
                version: odd && rng.Next(2) == 0 ? (byte)rng.Next(4) : (byte)0,
                length: odd && rng.Next(2) == 0 ? (byte)rng.Next(64) : null,
                nextProtocol: odd && rng.Next(2) == 0 ? (byte)rng.Next(256) : null);
            // Next protocol Ethernet: an inner frame (the builder then says 3).
            return rng.Next(5) == 0 ? p.InnerEth(Mac(), Mac()) : p;
        }

        /// <summary>
        /// An SRv6 packet (RFC 8754 2): mostly to a proxy SID, 1-16 segments, any hop limit, Segments Left
        /// mostly in range, hop-by-hop and destination options around the SRH, TLVs (padding, HMAC, random
        /// bytes up to 96), sometimes Last Entry / Hdr Ext Len / Segments Left anything, no SRH at all, or an
        /// inner Ethernet frame.
        /// </summary>
        private Packet Srv6(Packet p)
        {
            var n = rng.Next(1, SfcLimits.MaxLabels + 1);
            var dst = rng.Next(8) switch { 0 => Address(16), 1 => Srv6Sids.V4Only, _ => Srv6Sids.Proxy };
            p = p.IPv6(Address(16), dst, (uint)rng.Next(1 << 20), (byte)rng.Next(256), trafficClass: (byte)rng.Next(256));
            if (rng.Next(5) == 0)
                p = p.HopByHop(8 * rng.Next(1, 3));
            if (rng.Next(8) == 0)
                p = p.DestinationOptions(8);
            if (rng.Next(12) == 0)
                return p; // no routing header
            var odd = rng.Next(4) == 0;
            byte[] tlvs = rng.Next(6) switch
            {
                0 => Srv6Chain.Hmac,
                1 => Srv6Chain.Padding,
                2 => Bytes(8 * rng.Next(1, 13)),
                3 => rng.Next(1, 13) is var units ? [1, (byte)(8 * units - 2), .. new byte[8 * units - 2]] : [], // one PadN
                _ => [],
            };
            p = p.Srh(odd && rng.Next(2) == 0 ? (byte)rng.Next(256) : (byte)rng.Next(1, n + 1),
                [.. Enumerable.Range(0, n).Select(_ => Address(16))], tlvs,
                lastEntry: odd && rng.Next(2) == 0 ? (byte)rng.Next(256) : null,
                hdrExtLen: odd && rng.Next(2) == 0 ? (byte)rng.Next(256) : null);
            if (rng.Next(6) == 0)
                p = p.DestinationOptions(8 * rng.Next(1, 3));
            return rng.Next(5) == 0 ? p.InnerEth(Mac(), Mac()) : p;
        }

        /// <summary>Next header values the SRv6 parser branches on (inner types, extension headers, transports).</summary>
        private static readonly byte[] NextHeaders = [4, 41, 143, 43, 0, 60, 44, 51, 50, 6, 17, 58, 59];

        /// <summary>One SRH field of an IPv6 frame (behind up to 4 hop-by-hop / destination options headers)
        /// set to an edge or random value: Segments Left, Last Entry, Hdr Ext Len, Routing Type, a TLV
        /// length, a next header, the payload length; a frame without an SRH gets a random next header.</summary>
        private byte[] MutateSrh(byte[] f)
        {
            var l2 = Wire.L2Length(f);
            if (l2 + 40 > f.Length || OuterEtherType(f) != 0x86DD)
                return f;
            var (nextAt, off) = (l2 + 6, l2 + 40);
            for (var k = 0; k < 4 && f[nextAt] is 0 or 60 && off + 8 <= f.Length; k++)
                (nextAt, off) = (off, off + (f[off + 1] + 1) * 8);
            byte Edge(int around) => (byte)(rng.Next(4) switch { 0 => 0, 1 => around, 2 => around + 1, _ => rng.Next(256) });
            if (f[nextAt] != 43 || off + 8 > f.Length)
            {
                f[nextAt] = NextHeaders[rng.Next(NextHeaders.Length)];
                return f;
            }
            var lastEntry = f[off + 4];
            switch (rng.Next(7))
            {
                case 0:
                    f[off + 3] = Edge(lastEntry + 1);
                    break;
                case 1:
                    f[off + 4] = Edge(lastEntry);
                    break;
                case 2:
                    f[off + 1] = (byte)(f[off + 1] + rng.Next(-2, 3));
                    break;
                case 3:
                    f[off + 2] = (byte)rng.Next(256);
                    break;
                case 4:
                    {
                        // a byte of the TLV area (a type or a length), if the SRH has one
                        var tlvAt = off + 8 + 16 * (lastEntry + 1);
                        var end = Math.Min(f.Length, off + (f[off + 1] + 1) * 8);
                        if (tlvAt < end)
                            f[rng.Next(tlvAt, end)] = (byte)rng.Next(256);
                        break;
                    }
                case 5:
                    f[rng.Next(2) == 0 ? off : nextAt] = NextHeaders[rng.Next(NextHeaders.Length)];
                    break;
                default:
                    f[l2 + 4] = (byte)rng.Next(256);
                    f[l2 + 5] = (byte)rng.Next(256);
                    break;
            }
            return f;
        }

        private byte[] Mutate(byte[] f)
        {
            f = (byte[])f.Clone();
            switch (rng.Next(8))
            {
                case 6 or 7:
                    return MutateSrh(f);
                case 0: // flip bits
                    for (var n = 1 + rng.Next(8); n > 0; n--)
                        f[rng.Next(f.Length)] ^= (byte)(1 << rng.Next(8));
                    return f;
                case 1: // random bytes, biased to the headers where the parsers look
                    for (var n = 1 + rng.Next(4); n > 0; n--)
                        f[rng.Next(Math.Min(f.Length, rng.Next(2) == 0 ? 128 : f.Length))] = (byte)rng.Next(256);
                    return f;
                case 2: // truncate
                    return f[..rng.Next(MinFrame, f.Length + 1)];
                case 3: // an ethertype where the L2 parser reads one: after the MACs or a tag
                    {
                        var at = 12 + 4 * rng.Next(3);
                        if (at + 2 <= f.Length)
                        {
                            var t = rng.Next(EtherTypes.Length + 1) is var k && k < EtherTypes.Length ? EtherTypes[k] : (ushort)rng.Next(65536);
                            f[at] = (byte)(t >> 8);
                            f[at + 1] = (byte)t;
                        }
                        return f;
                    }
                case 4: // a label stack entry or VLAN tag inserted (4 random bytes) at a 4-byte boundary after the MACs
                    {
                        var at = Math.Min(f.Length, 12 + 4 * rng.Next(1 + (f.Length - 12) / 4));
                        return Clamp([.. f[..at], .. Bytes(4), .. f[at..]]);
                    }
                default: // 4 bytes taken out
                    {
                        if (f.Length < MinFrame + 4)
                            return f;
                        var at = rng.Next(12, f.Length - 3);
                        return [.. f[..at], .. f[(at + 4)..]];
                    }
            }
        }

        /// <summary>Random bytes, half of them with an SFC-looking ethertype so the label parser is reached.</summary>
        private byte[] RandomBytes()
        {
            var f = Bytes(rng.Next(MinFrame, rng.Next(2) == 0 ? 128 : MaxFrame));
            if (rng.Next(2) == 0)
            {
                f[12] = 0x88;
                f[13] = 0x47;
            }
            return f;
        }

        private static byte[] Clamp(byte[] f) => f.Length <= MaxFrame ? f : f[..MaxFrame];

        private byte[] Bytes(int n)
        {
            var b = new byte[n];
            rng.NextBytes(b);
            return b;
        }

        private byte[] Mac() => Bytes(6);

        private string Address(int length) => new IPAddress(Bytes(length)).ToString();
    }
}
