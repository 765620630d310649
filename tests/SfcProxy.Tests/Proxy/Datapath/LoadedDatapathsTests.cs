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

        var pins = new BpfPins($"test-{Guid.NewGuid():N}"[..17]);
        try
        {
            using var fresh = ProxyObjects.Load(pins, mode, 4096);
            var cleared = used.Objects.AllMaps().ToList();
            var expected = fresh.AllMaps().ToList();
            CollectionAssert.AreEqual(expected.Select(m => m.Subject).ToList(), cleared.Select(m => m.Subject).ToList(), "the same maps");
            foreach (var (c, e) in cleared.Zip(expected))
                Assert.IsTrue(e.Snapshot().AsSpan().SequenceEqual(c.Snapshot()), $"{c.Subject}: cleared differs from a fresh load");
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
