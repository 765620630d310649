using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// The metadata-mode cache is an array with one ring of slots per CPU, claimed by xdp_rx and
/// released by tc_tx with compare-and-swap (README "Cache aging and a full cache"). These run the
/// real programs through BPF_PROG_TEST_RUN with the calling thread pinned, so the CPU (the ring)
/// of each pop is known.
/// </summary>
[TestClass]
[DoNotParallelize] // the thread pinning wants the CPUs it names
public sealed class MetadataSlotTests
{
    private const ulong Hour = 3_600_000_000_000UL;

    /// <summary>A stack only packet <paramref name="i"/> has: restoring another packet's would show.</summary>
    private static LabelStackEntry[] StackOf(int i) =>
        [new(20000u + (uint)i, 0, false, 64), new(40000u + (uint)i, 0, true, 64)];

    private static byte[] Sfc(int i) => Inner.V4Udp.On(Stacks.Push(Packet.Eth(), StackOf(i)), 64).Build();

    private static byte[] Restored(int i) =>
        Inner.V4Udp.On(Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), Stacks.AfterVnf(StackOf(i), 1)), 63).Build();

    /// <summary>One slot per ring: every pop on a CPU lands in the slot of the pop before it.</summary>
    private static ProxyUnderTest OneSlotPerCpu(ulong maxAgeNs) =>
        new(KeyMode.Metadata, cacheSize: MetadataSlots.Rings, metaMaxAgeNs: maxAgeNs);

    [TestMethod]
    public void ASlotOlderThanMaxAgeIsTakenOverAndItsMarkMisses()
    {
        using var proxy = OneSlotPerCpu(maxAgeNs: 1);
        var (a, b) = CpuAffinity.On(0, () => (proxy.Rx(Sfc(1)), proxy.Rx(Sfc(2))));
        Assert.AreEqual(ProxyTestRuns.XdpPass, a.Verdict);
        Assert.AreEqual(ProxyTestRuns.XdpPass, b.Verdict, "the second pop takes the slot over");
        Assert.AreNotEqual(a.MetaKey, b.MetaKey);
        var moved = proxy.Moved();
        Assert.AreEqual(2ul, moved.GetValueOrDefault(Counter.RxPopped), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.MetaAgedOut), "the takeover is counted");
        Assert.AreEqual(0ul, moved.GetValueOrDefault(Counter.RxCacheFull));
        Assert.AreEqual(1, proxy.CacheEntries);
        Assert.AreEqual(ProxyUnderTest.KeyOf(b), MetadataSlots.Occupied(proxy.Cache).Single().Entry.Owner, "the slot is the new packet's");

        // The first packet comes out of the VNF late: its mark no longer owns the slot.
        var late = proxy.Tx(KernelVnf.Forward(a.Frame), a);
        Assert.AreEqual(ProxyTestRuns.TcShot, late.Verdict, "a taken-over mark is a miss (policy drop)");
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.TxMissDrop));
        Assert.AreEqual(1, proxy.CacheEntries, "a miss leaves the new owner's entry alone");

        var tx = proxy.Tx(KernelVnf.Forward(b.Frame), b);
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
        CollectionAssert.AreEqual(Restored(2), tx.Frame, "the new packet gets its own stack");
        Assert.AreEqual(0, proxy.CacheEntries, "released");
    }

    [TestMethod]
    public void ALiveSlotRefusesTheNextPacketAndKeepsItsEntry()
    {
        using var proxy = OneSlotPerCpu(maxAgeNs: Hour);
        var (a, b) = CpuAffinity.On(0, () => (proxy.Rx(Sfc(1)), proxy.Rx(Sfc(2))));
        Assert.AreEqual(ProxyTestRuns.XdpPass, a.Verdict);
        Assert.AreEqual(ProxyTestRuns.XdpDrop, b.Verdict, "cache full for this packet");
        Assert.IsNull(b.MetaKey);
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.RxCacheFull), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(0ul, moved.GetValueOrDefault(Counter.MetaAgedOut));
        Assert.AreEqual(ProxyUnderTest.KeyOf(a), MetadataSlots.Occupied(proxy.Cache).Single().Entry.Owner, "never evicted");

        var tx = proxy.Tx(KernelVnf.Forward(a.Frame), a);
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
        CollectionAssert.AreEqual(Restored(1), tx.Frame, "the live packet keeps its stack");
    }

    [TestMethod]
    public void MaxAgeZeroNeverTakesOver()
    {
        using var proxy = OneSlotPerCpu(maxAgeNs: 0);
        var b = CpuAffinity.On(0, () => { proxy.Rx(Sfc(1)); return proxy.Rx(Sfc(2)); });
        Assert.AreEqual(ProxyTestRuns.XdpDrop, b.Verdict);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxCacheFull));
    }

    /// <summary>Popped on one CPU, restored on another: the mark names the ring, not the restoring CPU.</summary>
    [TestMethod]
    [DataRow(0, 1)]
    [DataRow(1, 0)]
    public void RestoresOnAnotherCpuThanThePop(int popCpu, int restoreCpu)
    {
        Assert.IsGreaterThanOrEqualTo(2, CpuAffinity.Online, "this test needs two CPUs");
        using var proxy = new ProxyUnderTest(KeyMode.Metadata);
        var rx = CpuAffinity.On(popCpu, () => proxy.Rx(Sfc(7)));
        var slot = MetadataSlots.SlotOf(ProxyUnderTest.KeyOf(rx), MetadataSlots.IndexBits(proxy.Cache.MaxEntries));
        Assert.AreEqual((uint)popCpu, slot / MetadataSlots.PerRing(proxy.Cache.MaxEntries), "the key names a slot of the popping CPU's ring");
        var tx = CpuAffinity.On(restoreCpu, () => proxy.Tx(KernelVnf.Forward(rx.Frame), rx));
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
        CollectionAssert.AreEqual(Restored(7), tx.Frame);
        Assert.AreEqual(0, proxy.CacheEntries);
    }

    [TestMethod]
    public void StaleAndForgedMarksMiss()
    {
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Pass);
        var rx = CpuAffinity.On(0, () => proxy.Rx(Sfc(3)));
        var frame = KernelVnf.Forward(rx.Frame);
        var first = proxy.Tx(frame, rx);
        Assert.AreEqual(ProxyTestRuns.TcOk, first.Verdict);
        CollectionAssert.AreEqual(Restored(3), first.Frame, "the first use of the mark restores");
        var before = proxy.Moved().GetValueOrDefault(Counter.TxMissPass);

        // The same mark again (the slot was released), a key of a slot never claimed, and a key
        // beyond the map: all misses, and the packet leaves as the VNF sent it.
        var key = rx.MetaKey!.Value;
        var neverIssued = key + (100u << 16);
        var noRing = SfcLimits.DefaultMarkMask;
        foreach (var mark in new[] { key, neverIssued, noRing })
        {
            var tx = proxy.Tx(frame, mark);
            Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
            CollectionAssert.AreEqual(frame, tx.Frame, $"mark 0x{mark:x8}: sent as emitted");
        }
        Assert.AreEqual(before + 3, proxy.Moved().GetValueOrDefault(Counter.TxMissPass));
    }

    /// <summary>
    /// The race the compare-and-swap rules are for: one thread pops on CPU 0 into a small ring with
    /// a 1 ns MaxAge (every slot is taken over as soon as its ring comes round), the other restores
    /// the marks on CPU 1, often late. A late mark must miss; a hit must restore exactly the stack
    /// of the packet that mark was given to, never a newer packet's (a torn copy).
    /// </summary>
    [TestMethod]
    public void RestoresRacingTakeoversNeverGetAnotherPacketsStack()
    {
        Assert.IsGreaterThanOrEqualTo(2, CpuAffinity.Online, "this test needs two CPUs");
        const int Packets = 200_000;
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, cacheSize: 8 * MetadataSlots.Rings, metaMaxAgeNs: 1);
        var popped = new System.Collections.Concurrent.BlockingCollection<(int Index, RxRun Rx)>(boundedCapacity: 64);
        var frames = Enumerable.Range(0, 64).Select(Sfc).ToArray();
        var expected = Enumerable.Range(0, 64).Select(Restored).ToArray();
        var popper = Task.Run(() => CpuAffinity.On(0, () =>
        {
            for (var i = 0; i < Packets; i++)
            {
                var rx = proxy.Rx(frames[i % 64]);
                if (rx.Verdict == ProxyTestRuns.XdpPass && i % 3 == 0)
                    popped.TryAdd((i, rx)); // skipped when the restorer lags: those age out
            }
            popped.CompleteAdding();
        }));
        int hits = 0, misses = 0;
        CpuAffinity.On(1, () =>
        {
            foreach (var (index, rx) in popped.GetConsumingEnumerable())
            {
                var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
                if (tx.Verdict == ProxyTestRuns.TcShot)
                {
                    misses++;
                    continue;
                }
                hits++;
                if (!tx.Frame.AsSpan().SequenceEqual(expected[index % 64]))
                    Assert.Fail($"packet {index} (mark 0x{rx.MetaKey:x8}) restored with another packet's headers");
            }
        });
        popper.Wait();
        var moved = proxy.Moved();
        Assert.AreEqual((ulong)hits, moved.GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual((ulong)misses, moved.GetValueOrDefault(Counter.TxMissDrop), XdpRxFixtureTests.Format(moved));
        Assert.IsGreaterThan(0, hits, "some restores won the race");
        Assert.IsGreaterThan(0ul, moved.GetValueOrDefault(Counter.MetaAgedOut), "slots were taken over");
    }

    /// <summary>
    /// A load that creates the metadata cache writes every slot once (MetadataSlots.Prefault: the
    /// first touch of a page costs ~10 us on these VMs); a load that reuses the pinned cache (a
    /// restarted daemon) must not: the headers of packets in the VNF stay, and their marks still
    /// restore them.
    /// </summary>
    [TestMethod]
    public void AReloadOnThePinnedCacheKeepsTheSlotsOfPacketsInTheVnf()
    {
        BpfEnvironmentCheck.Require();
        var pins = new SfcProxy.Bpf.BpfPins($"test-{Guid.NewGuid():N}"[..17]);
        try
        {
            RxRun popped;
            using (var first = ProxyObjects.Load(pins, KeyMode.Metadata, 4096))
            {
                first.WriteConfig(new SfcConfig { KeyMode = (uint)KeyMode.Metadata, ConsumedSegments = 1, AcceptedEncaps = SfcLimits.AcceptAll });
                popped = first.RunRx(Sfc(7));
                Assert.AreEqual(ProxyTestRuns.XdpPass, popped.Verdict);
                Assert.AreEqual(1, MetadataSlots.Count(first.MetaCache));
            }
            using var second = ProxyObjects.Load(pins, KeyMode.Metadata, 4096);
            Assert.AreEqual(1, MetadataSlots.Count(second.MetaCache), "the reload kept the slot");
            var restored = second.RunTx(KernelVnf.Forward(popped.Frame), popped.MetaKey ?? 0);
            Assert.AreEqual(ProxyTestRuns.TcOk, restored.Verdict);
            CollectionAssert.AreEqual(Restored(7), restored.Frame, "the packet got its own stack back after the reload");
        }
        finally
        {
            pins.Remove();
        }
    }
}

/// <summary>How Cache:Size becomes rings of slots (the rounding the README documents).</summary>
[TestClass]
public sealed class MetadataSlotSizingTests
{
    [TestMethod]
    public void CacheSizeIsRoundedDownToWholeRingsWithAtLeastOneSlotEach()
    {
        var rings = MetadataSlots.Rings;
        Assert.AreEqual((uint)Math.Min(Environment.ProcessorCount, 256), rings, "one ring per CPU (possible == online here)");
        Assert.AreEqual(4096u / rings * rings, MetadataSlots.Capacity(4096));
        Assert.AreEqual(4096u / rings * rings, MetadataSlots.Capacity(4096 + rings - 1), "the remainder is not used");
        Assert.AreEqual(rings, MetadataSlots.Capacity(1), "a cache smaller than the CPU count gets one slot per CPU");
        Assert.AreEqual(4096u / rings, MetadataSlots.PerRing(MetadataSlots.Capacity(4096)));
    }

    [TestMethod]
    public void TheLoadedArrayAndTheConfigAgree()
    {
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, cacheSize: 1000);
        Assert.AreEqual(MetadataSlots.Capacity(1000), proxy.Cache.MaxEntries);
        Assert.AreEqual(SfcProxy.Bpf.BpfMapType.Array, proxy.Cache.Type);
        Assert.IsTrue(proxy.Objects.Config.TryLookup(0u, out SfcConfig config));
        Assert.AreEqual(1000u / MetadataSlots.Rings, config.MetaSlotsPerCpu, "WriteConfig fills in the ring size");
    }
}
