using System.Buffers.Binary;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SfcProxy.Bpf;
using SfcProxy.Composition;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Tests.Bpf;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy;

/// <summary>
/// Cache aging on the real datapath: entries of packets the VNF dropped are deleted by the sweep,
/// live ones never are, and the hosted service does it on its own.
/// </summary>
[TestClass]
[DoNotParallelize] // timings are reported, and the 1M-entry caches want the CPUs to themselves
public sealed class CacheAgingTests
{
    public TestContext TestContext { get; set; } = null!;

    private static readonly LabelStackEntry[] Stack = Stacks.Make(2);

    /// <summary>
    /// Distinct frames from one template each: IPv4/TCP (IP id and TCP sequence from the index) and
    /// IPv6/UDP (first 4 payload bytes from the index), so every header-hash key differs.
    /// Checksums of the inner headers are left stale except IPv4's (nothing here checks them).
    /// </summary>
    private sealed class DistinctFrames
    {
        private readonly byte[] _v4 = Stacks.Push(Packet.Eth(), Stack).IPv4(id: 0).Tcp(40001, 80, seq: 0, ack: 77).Payload(64).Build();
        private readonly byte[] _v6 = Stacks.Push(Packet.Eth(), Stack).IPv6(flowLabel: 0x12345).Udp(40000, 9).Payload(32).Build();
        private readonly int _ip = 14 + 4 * Stack.Length;

        public byte[] For(int i)
        {
            if ((i & 1) == 0)
            {
                var f = _v4;
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(_ip + 4), (ushort)(i >> 1));
                BinaryPrimitives.WriteUInt32BigEndian(f.AsSpan(_ip + 20 + 4), (uint)i);
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(_ip + 10), 0);
                BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(_ip + 10), Checksum.Fold(Checksum.Sum(f.AsSpan(_ip, 20))));
                return f;
            }
            BinaryPrimitives.WriteUInt32BigEndian(_v6.AsSpan(_ip + 40 + 8), (uint)i);
            return _v6;
        }
    }

    /// <summary>
    /// The test: a VNF that drops every 10th packet, 1,000,000 packets. Every packet goes
    /// through xdp_rx; 9 of 10 wait in a 32-packet FIFO (the VNF) and then go through tc_tx; every
    /// 10th is dropped. Every 10,000 packets a sweep runs whose age limit is "popped before the
    /// oldest packet still in the VNF", which makes exactly the dropped entries eligible.
    /// Bound: before each sweep the cache holds exactly (packets in the VNF) + (drops not yet aged)
    /// &lt;= 32 + 10,000/10 + 32/10 + 1 = 1,036 entries, in a cache of 4,096 that would overflow
    /// (rx_cache_full) after 4,096 drops without aging.
    /// </summary>
    [TestMethod]
    [DataRow(KeyMode.HeaderHash)]
    public void DroppingEveryTenthPacketAgesOutExactlyTheDrops(KeyMode mode)
    {
        const int Packets = 1_000_000, Window = 32, SweepEvery = 10_000, CacheSize = 4096;
        const int Bound = Window + SweepEvery / 10 + Window / 10 + 1;
        using var proxy = new ProxyUnderTest(mode, cacheSize: CacheSize);
        var aging = new CacheAging(proxy.Objects);
        var frames = new DistinctFrames();
        // (index, monotonic ns read just before its xdp_rx run, popped frame, metadata key)
        var inVnf = new Queue<(int Index, ulong Before, byte[] Frame, uint? Key)>();
        var dropped = new Queue<int>(); // indices of dropped packets whose entry is not aged out yet
        long agedOut = 0, sweeps = 0, maxSeen = 0;
        var sweepTime = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();

        void SendOne()
        {
            var (_, _, frame, key) = inVnf.Dequeue();
            var tx = proxy.Tx(KernelVnf.Forward(frame), key ?? 0);
            if (tx.Verdict != ProxyTestRuns.TcOk)
                Assert.Fail($"tc_tx verdict {tx.Verdict}: {XdpRxFixtureTests.Format(proxy.Moved())}");
        }

        void Sweep(int packetsSoFar)
        {
            // Every entry popped before the oldest packet still in the VNF was read is a drop.
            var (oldest, cutoff) = inVnf.Count > 0 ? (inVnf.Peek().Index, inVnf.Peek().Before) : (packetsSoFar, MonotonicClock.NowNs());
            var expected = 0;
            while (dropped.Count > 0 && dropped.Peek() < oldest)
            {
                dropped.Dequeue();
                expected++;
            }
            var r = aging.SweepOlderThan(cutoff);
            sweeps++;
            sweepTime += r.Elapsed;
            maxSeen = Math.Max(maxSeen, r.Scanned);
            Assert.AreEqual(inVnf.Count + dropped.Count + expected, r.Scanned, $"entries before sweep {sweeps}: in the VNF + drops not aged");
            Assert.IsLessThanOrEqualTo(Bound, r.Scanned, $"sweep {sweeps}: cache bound");
            Assert.AreEqual(expected, r.AgedOut, $"sweep {sweeps}: exactly the drops popped before the oldest packet in the VNF");
            agedOut += r.AgedOut;
        }

        for (var i = 0; i < Packets; i++)
        {
            var before = MonotonicClock.NowNs();
            var rx = proxy.Rx(frames.For(i));
            if (rx.Verdict != ProxyTestRuns.XdpPass)
                Assert.Fail($"packet {i}: xdp_rx verdict {rx.Verdict}: {XdpRxFixtureTests.Format(proxy.Moved())}");
            if (i % 10 == 9)
                dropped.Enqueue(i); // the VNF drops it: its entry stays behind
            else
                inVnf.Enqueue((i, before, rx.Frame, rx.MetaKey));
            if (inVnf.Count > Window)
                SendOne();
            if ((i + 1) % SweepEvery == 0)
                Sweep(i + 1);
        }
        while (inVnf.Count > 0)
            SendOne();
        Sweep(Packets);
        clock.Stop();

        Assert.AreEqual(Packets / 10, agedOut, "aged out == dropped");
        Assert.AreEqual(0, proxy.CacheEntries, "cache empty at the end");
        var moved = proxy.Moved();
        Assert.AreEqual((ulong)Packets, moved.GetValueOrDefault(Counter.RxPopped), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual((ulong)(Packets - Packets / 10), moved.GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual((ulong)Packets, XdpRxFixtureTests.OutcomeSum(moved, "Rx"), "one rx outcome per packet: " + XdpRxFixtureTests.Format(moved));
        Assert.AreEqual((ulong)(Packets - Packets / 10), XdpRxFixtureTests.OutcomeSum(moved, "Tx"), "one tx outcome per sent packet: " + XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(0ul, moved.GetValueOrDefault(Counter.RxCacheFull));
        Assert.AreEqual(0ul, moved.GetValueOrDefault(Counter.RxDuplicateKey));
        TestContext.WriteLine($"{mode}: {Packets:N0} packets in {clock.Elapsed.TotalSeconds:0.0} s; {sweeps} sweeps, {sweepTime.TotalMilliseconds:0} ms sweeping " +
            $"({sweepTime.TotalMilliseconds / sweeps:0.00} ms each); most entries seen {maxSeen} (bound {Bound}); aged out {agedOut:N0}");
    }

    /// <summary>
    /// The same VNF in metadata mode, where aging is the datapath's: a slot is taken over when its
    /// CPU's ring comes round to it and its entry is older than MaxAge (1 ns here, so as soon as it
    /// comes round; the 32 packets in the VNF are never that far behind a ring of 2,048). All pops
    /// run on CPU 0 (one ring of S = Cache:Size / CPUs slots). Invariants, checked every 10,000
    /// packets and at the end:
    /// occupied slots == packets in the VNF + drops not yet taken over, at most 32 + S/10 + 1 (the
    /// drops among the last S pops); no live entry is ever taken (no miss, no cache full); and every
    /// drop is either taken over (meta_aged_out) or still in its slot at the end, nothing else is.
    /// </summary>
    [TestMethod]
    public void DroppingEveryTenthPacketReclaimsTheDropsInMetadataMode()
    {
        const int Packets = 1_000_000, Window = 32, CheckEvery = 10_000;
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, cacheSize: 4096, metaMaxAgeNs: 1);
        var ring = (int)MetadataSlots.PerRing(proxy.Cache.MaxEntries);
        var bound = Window + ring / 10 + 1;
        var frames = new DistinctFrames();
        var inVnf = new Queue<(byte[] Frame, uint Key)>();
        // Counted, not only collected by key: a key names a slot and its generation, so it comes round again.
        long drops = 0;
        var droppedKeys = new HashSet<uint>();
        long maxSeen = 0;
        var clock = Stopwatch.StartNew();

        void Check(int sent)
        {
            var occupied = proxy.CacheEntries;
            var takenOver = (long)proxy.Moved().GetValueOrDefault(Counter.MetaAgedOut);
            Assert.AreEqual(inVnf.Count + drops - takenOver, occupied, $"after {sent}: occupied == in the VNF + drops not taken over");
            Assert.IsLessThanOrEqualTo(bound, occupied, $"after {sent}: cache bound");
            maxSeen = Math.Max(maxSeen, occupied);
        }

        CpuAffinity.On(0, () =>
        {
            for (var i = 0; i < Packets; i++)
            {
                var rx = proxy.Rx(frames.For(i));
                if (rx.Verdict != ProxyTestRuns.XdpPass || rx.MetaKey is not { } key)
                    Assert.Fail($"packet {i}: xdp_rx verdict {rx.Verdict}: {XdpRxFixtureTests.Format(proxy.Moved())}");
                else if (i % 10 == 9)
                {
                    drops++; // the VNF drops it: its slot stays owned
                    droppedKeys.Add(ProxyUnderTest.KeyOf(rx));
                }
                else
                    inVnf.Enqueue((rx.Frame, key));
                if (inVnf.Count > Window)
                {
                    var (frame, k) = inVnf.Dequeue();
                    var tx = proxy.Tx(KernelVnf.Forward(frame), k);
                    if (tx.Verdict != ProxyTestRuns.TcOk)
                        Assert.Fail($"tc_tx verdict {tx.Verdict}: {XdpRxFixtureTests.Format(proxy.Moved())}");
                }
                if ((i + 1) % CheckEvery == 0)
                    Check(i + 1);
            }
            while (inVnf.Count > 0)
            {
                var (frame, k) = inVnf.Dequeue();
                Assert.AreEqual(ProxyTestRuns.TcOk, proxy.Tx(KernelVnf.Forward(frame), k).Verdict);
            }
        });
        clock.Stop();
        Check(Packets);

        var moved = proxy.Moved();
        var left = MetadataSlots.Occupied(proxy.Cache).Select(o => o.Entry.Owner).ToList();
        Assert.AreEqual((ulong)(Packets / 10), moved.GetValueOrDefault(Counter.MetaAgedOut) + (ulong)left.Count, "every drop taken over or still cached");
        Assert.IsTrue(left.All(droppedKeys.Contains), "only drops are left in the cache");
        Assert.IsLessThanOrEqualTo(ring / 10 + 1, left.Count, "at most the drops of the last ring round are left");
        Assert.AreEqual((ulong)Packets, moved.GetValueOrDefault(Counter.RxPopped), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual((ulong)(Packets - Packets / 10), moved.GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual((ulong)Packets, XdpRxFixtureTests.OutcomeSum(moved, "Rx"), "one rx outcome per packet: " + XdpRxFixtureTests.Format(moved));
        Assert.AreEqual((ulong)(Packets - Packets / 10), XdpRxFixtureTests.OutcomeSum(moved, "Tx"), "no miss: no live entry was taken over");
        Assert.AreEqual(0ul, moved.GetValueOrDefault(Counter.RxCacheFull));
        TestContext.WriteLine($"Metadata: {Packets:N0} packets in {clock.Elapsed.TotalSeconds:0.0} s; ring of {ring} slots; most occupied {maxSeen} (bound {bound}); " +
            $"taken over {moved.GetValueOrDefault(Counter.MetaAgedOut):N0}, left {left.Count}");
    }

    /// <summary>
    /// In metadata mode the service never sweeps (the host must not write the slots): it asks the
    /// datapath nothing, while in header-hash mode it does.
    /// </summary>
    [TestMethod]
    [DataRow(KeyMode.Metadata, false)]
    [DataRow(KeyMode.HeaderHash, true)]
    public async Task TheServiceSweepsInHeaderHashModeOnly(KeyMode mode, bool sweeps)
    {
        var datapath = new Control.FakeDatapath { SweepResult = new CacheSweepResult(0, 0, TimeSpan.Zero) };
        var stats = new CacheAgingStats();
        var options = Microsoft.Extensions.Options.Options.Create(new SfcProxy.Configuration.SfcProxyOptions
            { KeyMode = mode, Cache = { MaxAge = TimeSpan.FromMilliseconds(200) } });
        using var service = new CacheAgingService(datapath, options, stats, TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<CacheAgingService>.Instance);
        await service.StartAsync(TestContext.CancellationToken);
        await Task.Delay(350, TestContext.CancellationToken);
        await service.StopAsync(TestContext.CancellationToken);
        Assert.AreEqual(sweeps, datapath.Sweeps > 0, $"{mode}: swept {datapath.Sweeps} times");
        Assert.AreEqual(sweeps, stats.Sweeps > 0);
    }

    /// <summary>The metadata cache is not the host's to age: the sweeper refuses it.</summary>
    [TestMethod]
    public void CacheAgingRefusesTheMetadataCache()
    {
        using var proxy = new ProxyUnderTest(KeyMode.Metadata);
        Assert.ThrowsExactly<ArgumentException>(() => new CacheAging(proxy.Objects));
    }

    /// <summary>
    /// A full cache of 1,000,000 entries (Cache:Size 1,048,576), filled through xdp_rx: a sweep that
    /// ages out none leaves all, one that ages out all leaves none. Timings are reported, not asserted.
    /// </summary>
    [TestMethod]
    public void SweepsAFullCacheOfAMillionEntries()
    {
        const int Entries = 1_000_000;
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, cacheSize: 1_048_576);
        var frames = new DistinctFrames();
        var fill = Stopwatch.StartNew();
        for (var i = 0; i < Entries; i++)
        {
            var rx = proxy.Rx(frames.For(i));
            if (rx.Verdict != ProxyTestRuns.XdpPass)
                Assert.Fail($"packet {i}: xdp_rx verdict {rx.Verdict}: {XdpRxFixtureTests.Format(proxy.Moved())}");
        }
        fill.Stop();
        Assert.AreEqual((ulong)Entries, proxy.Moved().GetValueOrDefault(Counter.RxPopped));

        var aging = new CacheAging(proxy.Objects);
        var none = aging.Sweep(TimeSpan.FromHours(1));
        Assert.AreEqual(Entries, none.Scanned, "a sweep reads every entry");
        Assert.AreEqual(0, none.AgedOut, "nothing is an hour old");

        var all = aging.Sweep(TimeSpan.Zero);
        Assert.AreEqual(Entries, all.Scanned);
        Assert.AreEqual(Entries, all.AgedOut, "everything was popped before now");

        var empty = aging.Sweep(TimeSpan.Zero);
        Assert.AreEqual(0, empty.Scanned, "entries left");
        Assert.AreEqual(0, proxy.CacheEntries, "entries left");
        TestContext.WriteLine($"fill {Entries:N0} via xdp_rx: {fill.Elapsed.TotalSeconds:0.0} s; sweep aging none: {none.Elapsed.TotalMilliseconds:0} ms; " +
            $"sweep aging all: {all.Elapsed.TotalMilliseconds:0} ms; sweep of the empty cache: {empty.Elapsed.TotalMilliseconds:0.0} ms");
    }

    /// <summary>A distinct header-hash cache key (a flow key's tag) per k.</summary>
    private static ulong Key(uint k) => 0x5fc0_0000_0000_0000UL | k;

    /// <summary>A sweep racing tc_tx (header-hash mode, the one where the host deletes): keys deleted by someone else between lookup and delete are skipped, not errors.</summary>
    [TestMethod]
    public void EntriesDeletedDuringTheSweepAreNotErrors()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, cacheSize: 65536);
        var old = new SfcCacheEntry { IngressNs = 1, Refs = 1, Encap = (byte)Encapsulation.Mpls, LabelCount = 1 };
        for (var k = 1u; k <= 20_000; k++)
            proxy.Cache.Update(Key(k), old);
        long deletedByOther = 0;
        // The "tc_tx": deletes odd keys as fast as it can while the sweep runs.
        var other = Task.Run(() =>
        {
            for (var k = 1u; k <= 20_000; k += 2)
                if (proxy.Cache.Delete(Key(k)))
                    Interlocked.Increment(ref deletedByOther);
        });
        var r = new CacheAging(proxy.Objects).Sweep(TimeSpan.FromSeconds(1));
        other.Wait(TestContext.CancellationToken);
        Assert.AreEqual(20_000, r.AgedOut + (int)deletedByOther, $"every entry deleted once (sweep {r.AgedOut}, other {deletedByOther})");
        Assert.AreEqual(0, proxy.CacheEntries);
    }

    /// <summary>
    /// An old entry whose reference count is 0 is on its way out (tc_tx or xdp_rx's undo releasing
    /// it): the sweep leaves it to its releaser, as the datapath's join leaves it alone, and ages out
    /// only entries it took to 0 itself.
    /// </summary>
    [TestMethod]
    public void EntriesOnTheirWayOutAreLeftToTheirReleaser()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, cacheSize: 65536);
        for (var k = 1u; k <= 20_000; k++)
            proxy.Cache.Update(Key(k), new SfcCacheEntry { IngressNs = 1, Refs = k % 2, Encap = (byte)Encapsulation.Mpls, LabelCount = 1 });
        var r = new CacheAging(proxy.Objects).Sweep(TimeSpan.FromSeconds(1));
        Assert.AreEqual(20_000, r.Scanned);
        Assert.AreEqual(10_000, r.AgedOut, "only the entries with a reference");
        Assert.AreEqual(10_000, proxy.CacheEntries, "the ones at 0 are their releasers' to delete");
    }

    /// <summary>
    /// The hosted service on a real attached datapath (veth pair in a throw-away namespace), with
    /// Cache:MaxAge 200 ms: entries nobody claims disappear between maxAge and about 2 x maxAge after
    /// their pop, and the stats the control socket reads say so.
    /// </summary>
    [TestMethod]
    public void TheHostedServiceAgesOutEntriesOnItsOwn()
    {
        BpfEnvironmentCheck.Require();
        var maxAge = TimeSpan.FromMilliseconds(200);
        var instance = $"aging-{Guid.NewGuid():N}"[..18];
        var socketDir = Path.Combine(Path.GetTempPath(), $"sfcproxy-test-{Guid.NewGuid():N}");
        using var network = TestNetwork.Create();
        IHost? host = null;
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["SfcProxy:Instance"] = instance,
                ["SfcProxy:Interfaces:Ingress"] = TestNetwork.Veth0,
                ["SfcProxy:Interfaces:Egress"] = TestNetwork.Veth1,
                ["SfcProxy:XdpMode"] = "generic",
                ["SfcProxy:DisableGro"] = "false",
                ["SfcProxy:Cache:MaxAge"] = "00:00:00.200",
                ["SfcProxy:Socket:Path"] = Path.Combine(socketDir, "ctl.sock"),
            });
            builder.Logging.ClearProviders();
            builder.Services.AddInstance(builder.Configuration, sp => ActivatorUtilities.CreateInstance<BpfProxyDatapath>(sp));
            host = builder.Build();
            // Options validation and the attach look the interfaces up in the calling thread's namespace.
            network.Run(() => host.StartAsync(TestContext.CancellationToken).GetAwaiter().GetResult());

            var stats = host.Services.GetRequiredService<ICacheAgingStats>();
            using var cache = BpfMap.OpenPinned(Path.Combine(BpfPins.DefaultRoot, instance, SfcBpfNames.Maps.HashCache));
            const int Lost = 100;
            var popped = MonotonicClock.NowNs();
            for (var i = 0; i < Lost; i++)
            {
                var key = 0x5fc0_0000_0000_0000UL | (uint)i; // the map's key: a flow key's tag
                cache.Update(key, new SfcCacheEntry { IngressNs = popped, Refs = 1, Encap = (byte)Encapsulation.Mpls, LabelCount = 1 });
            }

            var deadline = Stopwatch.StartNew();
            while (cache.Count() > 0 && deadline.Elapsed < TimeSpan.FromSeconds(10))
                Thread.Sleep(5);
            var gone = TimeSpan.FromTicks((long)(MonotonicClock.NowNs() - popped) / 100);

            Assert.AreEqual(0, cache.Count(), "the service aged the entries out");
            Assert.IsGreaterThanOrEqualTo(maxAge, gone, "never before maxAge");
            // A sweep runs every maxAge / 2, so entries go between maxAge and about 1.5 x maxAge; the extra
            // second is for a busy 2-CPU machine's scheduling, which the sweep timer does not control.
            Assert.IsLessThanOrEqualTo(2 * maxAge + TimeSpan.FromSeconds(1), gone, "within about 2 x maxAge (+1 s of scheduling slack)");
            Assert.AreEqual(Lost, stats.AgedOut);
            Assert.IsGreaterThanOrEqualTo(1L, stats.Sweeps);
            Assert.IsNotNull(stats.LastSweepAt);
            TestContext.WriteLine($"aged out {Lost} entries {gone.TotalMilliseconds:0} ms after their pop (maxAge {maxAge.TotalMilliseconds} ms, " +
                $"interval {CacheAgingService.IntervalFor(maxAge).TotalMilliseconds} ms); last sweep {stats.LastSweepDuration.TotalMilliseconds:0.00} ms");
        }
        finally
        {
            if (host is not null)
            {
                network.Run(() => host.StopAsync(CancellationToken.None).GetAwaiter().GetResult());
                host.Dispose();
            }
            if (Directory.Exists(socketDir))
                Directory.Delete(socketDir, recursive: true);
        }
    }

    [TestMethod]
    public void AgingIntervalIsHalfTheMaxAgeBetween100MsAnd5S()
    {
        Assert.AreEqual(TimeSpan.FromSeconds(2.5), CacheAgingService.IntervalFor(TimeSpan.FromSeconds(5)));
        Assert.AreEqual(TimeSpan.FromMilliseconds(100), CacheAgingService.IntervalFor(TimeSpan.FromMilliseconds(50)));
        Assert.AreEqual(TimeSpan.FromSeconds(5), CacheAgingService.IntervalFor(TimeSpan.FromMinutes(1)));
    }

    [TestMethod]
    public async Task TheServiceDoesNothingWhileTheDatapathIsNotAttached()
    {
        var datapath = new Control.FakeDatapath { SweepResult = null };
        var stats = new CacheAgingStats();
        var options = Microsoft.Extensions.Options.Options.Create(new SfcProxy.Configuration.SfcProxyOptions { Cache = { MaxAge = TimeSpan.FromMilliseconds(200) } });
        using var service = new CacheAgingService(datapath, options, stats, TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<CacheAgingService>.Instance);
        await service.StartAsync(TestContext.CancellationToken);
        await Task.Delay(350, TestContext.CancellationToken);
        await service.StopAsync(TestContext.CancellationToken);
        Assert.IsGreaterThanOrEqualTo(1, datapath.Sweeps, "it asked");
        Assert.AreEqual(0L, stats.Sweeps, "nothing recorded while not attached");
    }
}
