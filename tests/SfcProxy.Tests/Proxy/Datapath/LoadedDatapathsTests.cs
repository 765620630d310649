using SfcProxy.Bpf;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Tests.Proxy.Datapath.Srv6;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// The pool of loaded datapaths (<see cref="LoadedDatapaths"/>) is only sound if a cleared datapath
/// is indistinguishable from a fresh load: judged map by map, byte for byte, against a datapath
/// loaded for the comparison, after traffic that leaves state in every kind of map (cached
/// entries of all three encapsulations, counters, latency histograms, fragments, sequences).
/// </summary>
[TestClass]
public sealed class LoadedDatapathsTests
{
    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void ClearedMapsEqualAFreshLoad(KeyMode mode)
    {
        using var used = new ProxyUnderTest(mode);
        LeaveStateEverywhere(used);
        Assert.IsTrue(used.Moved().Count > 3, "the traffic moved counters");
        Assert.IsTrue(used.CacheEntries > 0, "the traffic left cached entries");

        used.Objects.ClearMaps();

        AssertEqualsAFreshLoad(used, mode);
    }

    /// <summary>
    /// Traffic leaves nothing in the maps the host writes (sfc_vnf_port) or that only some paths
    /// touch (sfc_icmp_rate, the scratch maps): every map of every object gets an element of
    /// non-zero bytes written from here (both ends of an array, every CPU's value), so a map kind
    /// ClearMaps misses, or a map Clear empties only in part, differs from a fresh load.
    /// </summary>
    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void EveryMapIsClearedWhateverItHeld(KeyMode mode)
    {
        using var used = new ProxyUnderTest(mode);
        foreach (var map in used.Objects.AllMaps())
            Dirty(map);

        WithAFreshLoad(mode, fresh =>
        {
            foreach (var (dirty, clean) in used.Objects.AllMaps().Zip(fresh))
                Assert.IsFalse(clean.Snapshot().AsSpan().SequenceEqual(dirty.Snapshot()), $"{dirty.Subject}: the dirt shows");
            used.Objects.ClearMaps();
            AssertSameState(fresh, used);
        });
    }

    /// <summary>
    /// A disposed ProxyUnderTest's datapath is the next test's: a test that kept using it (a
    /// helper that returned it after a using block ended) would write that test's maps. It throws
    /// instead, and a second Dispose hands nothing back twice (two tests would share one datapath).
    /// </summary>
    [TestMethod]
    [DoNotParallelize] // the next ProxyUnderTest of this shape must be this test's, not another's
    public void ADisposedProxyIsNeitherUsableNorHandedBackTwice()
    {
        var first = new ProxyUnderTest(KeyMode.HeaderHash);
        var datapath = first.Objects;
        first.Dispose();
        first.Dispose();
        using var second = new ProxyUnderTest(KeyMode.HeaderHash);
        using var third = new ProxyUnderTest(KeyMode.HeaderHash);
        Assert.AreNotSame(second.Objects, third.Objects, "one datapath, handed back once, went to one test");
        Assert.IsTrue(datapath == second.Objects || datapath == third.Objects, "the next test got the handed-back datapath");

        Assert.ThrowsExactly<ObjectDisposedException>(() => first.Rx(Inner.V4Udp.On(Packet.Eth().Labels(3), 64).Build()));
        Assert.AreEqual(0, second.CacheEntries + third.CacheEntries, "nothing written into the next tests' caches");
    }

    // enum bpf_map_type values of the maps the SFC objects declare.
    private const uint HashMap = 1, ArrayMap = 2, PerCpuHashMap = 5, PerCpuArrayMap = 6, LruHashMap = 9, LruPerCpuHashMap = 10, DevMap = 14;

    private static void Dirty(BpfMap map)
    {
        var value = new byte[map.IsPerCpu ? ((map.ValueSize + 7) & ~7u) * BpfMap.PossibleCpuCount : map.ValueSize];
        value.AsSpan().Fill(0xA5);
        switch (map.Type)
        {
            case ArrayMap or PerCpuArrayMap:
                map.UpdateBytes(BitConverter.GetBytes(0u), value);
                map.UpdateBytes(BitConverter.GetBytes(map.MaxEntries - 1), value);
                break;
            case HashMap or PerCpuHashMap or LruHashMap or LruPerCpuHashMap:
                map.UpdateBytes(Enumerable.Repeat((byte)0x5A, (int)map.KeySize).ToArray(), value);
                break;
            case DevMap:
                map.UpdateBytes(BitConverter.GetBytes(0u), BitConverter.GetBytes((uint)NetDevice.IfIndex("lo")));
                break;
            default:
                Assert.Fail($"{map.Subject}: the judge cannot dirty a map of type {map.Type}; teach it (and BpfMap.Clear) this type");
                break;
        }
    }

    private static void AssertEqualsAFreshLoad(ProxyUnderTest used, KeyMode mode) =>
        WithAFreshLoad(mode, fresh => AssertSameState(fresh, used));

    private static void AssertSameState(List<BpfMap> expected, ProxyUnderTest used)
    {
        var cleared = used.Objects.AllMaps().ToList();
        CollectionAssert.AreEqual(expected.Select(m => m.Subject).ToList(), cleared.Select(m => m.Subject).ToList(), "the same maps");
        foreach (var (c, e) in cleared.Zip(expected))
            Assert.IsTrue(e.Snapshot().AsSpan().SequenceEqual(c.Snapshot()), $"{c.Subject}: cleared differs from a fresh load");
    }

    /// <summary>Runs judge on the maps of a datapath loaded for the comparison (not from the pool).</summary>
    private static void WithAFreshLoad(KeyMode mode, Action<List<BpfMap>> judge)
    {
        var pins = new BpfPins($"test-{Guid.NewGuid():N}"[..17]);
        try
        {
            using var fresh = ProxyObjects.Load(pins, mode, 4096);
            judge(fresh.AllMaps().ToList());
        }
        finally
        {
            pins.Remove();
        }
    }

    private static void LeaveStateEverywhere(ProxyUnderTest proxy)
    {
        var frames = new List<byte[]>
        {
            Inner.V4Udp.On(Packet.Eth().Labels(3), 64).Build(),
            Inner.V6Tcp.On(Packet.Eth().Nsh(spi: 5, si: 9), 64).Build(),
            Inner.V4Udp.On(new Srv6Chain("three", 3).On(Packet.Eth()), 64).Build(),
            // The first fragment of a datagram (fragment state), and a frame that is no SFC packet.
            Packet.Eth().Labels(2).IPv4(id: 77, fragOff: 0x2000).Udp(1, 2).Payload(64).Build(),
            Packet.Eth().IPv4().Udp(1, 2).Payload(8).Build(),
        };
        foreach (var frame in frames)
            proxy.Rx(frame);
        // One round trip: a restore, a latency sample.
        var rx = proxy.Rx(Inner.V4Udp.On(Packet.Eth().Labels(2, first: 17000), 64).Build());
        proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
    }
}
