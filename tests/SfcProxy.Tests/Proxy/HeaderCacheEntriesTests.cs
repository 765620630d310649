using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy;

/// <summary>cache-dump and flush against the real maps: frames popped by xdp_rx under BPF_PROG_TEST_RUN.</summary>
[TestClass]
public sealed class HeaderCacheEntriesTests
{
    private static byte[] Frame(ushort id, ushort sport) =>
        Packet.Eth().Mpls(16001, ttl: 64, tc: 5).Mpls(16002, ttl: 63).IPv4(id: id).Udp(sport: sport).Payload(16).Build();

    [TestMethod]
    [DataRow(KeyMode.HeaderHash)]
    [DataRow(KeyMode.Metadata)]
    public void DumpListsPoppedStacksAndFlushEmptiesTheCache(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        for (ushort i = 0; i < 5; i++)
            Assert.AreEqual(ProxyTestRuns.XdpPass, proxy.Rx(Frame((ushort)(100 + i), (ushort)(40000 + i))).Verdict);

        var all = proxy.Objects.CacheKeyMode.Dump(proxy.Cache, limit: 100);
        var two = proxy.Objects.CacheKeyMode.Dump(proxy.Cache, limit: 2);

        Assert.HasCount(5, all);
        Assert.HasCount(2, two);
        Assert.HasCount(5, all.Select(e => e.Key).Distinct());
        foreach (var entry in all)
        {
            Assert.AreEqual("mpls", entry.Encapsulation);
            CollectionAssert.AreEqual(new[] { "16001/5/64", "16002/0/63/S" }, entry.Labels.ToArray());
            Assert.AreEqual(mode == KeyMode.HeaderHash ? 1u : 0u, entry.Refs, "header-hash counts the packets under a key; a metadata slot has one");
            Assert.IsInRange(0L, 60_000L, entry.AgeMs);
            Assert.IsNull(entry.Nsh);
        }
        if (mode == KeyMode.HeaderHash)
            Assert.IsTrue(all.Any(e => e.Key.StartsWith("ipv4 198.18.1.1 -> 198.18.2.1 proto 17 ports 40002 -> 9 id 0x00664000", StringComparison.Ordinal)),
                string.Join("\n", all.Select(e => e.Key)));
        else
            Assert.IsTrue(all.All(e => uint.TryParse(e.Key, out _)));

        Assert.AreEqual(5, proxy.Objects.CacheKeyMode.Flush(proxy.Cache));
        Assert.AreEqual(0, proxy.CacheEntries);
        Assert.AreEqual(0, proxy.Objects.CacheKeyMode.Flush(proxy.Cache));
        Assert.IsEmpty(proxy.Objects.CacheKeyMode.Dump(proxy.Cache, limit: 100));
    }

    [TestMethod]
    public void DumpOfAnEmptyCacheIsEmpty()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);

        Assert.IsEmpty(proxy.Objects.CacheKeyMode.Dump(proxy.Cache, limit: 10));
    }

    [TestMethod]
    public void NshHeaderFieldsAreDecoded()
    {
        // The NSH header of a built frame: after the 14-byte Ethernet header.
        byte[] frame = Packet.Eth().Nsh(spi: 0x123456, si: 200, ttl: 17, mdType: 1).IPv4().Udp().Build();
        var header = frame.AsSpan(14, 24);

        var nsh = HeaderCacheEntries.Nsh(header);

        Assert.AreEqual(0x123456u, nsh.Spi);
        Assert.AreEqual((byte)200, nsh.Si);
        Assert.AreEqual((byte)17, nsh.Ttl);
        Assert.AreEqual((byte)1, nsh.MdType);
        Assert.AreEqual(24, nsh.Length);
        Assert.AreEqual((byte)1, nsh.NextProtocol);
        Assert.AreEqual(48, nsh.Hex.Length);
    }
}
