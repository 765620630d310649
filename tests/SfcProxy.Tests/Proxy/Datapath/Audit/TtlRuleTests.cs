using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Audit;

/// <summary>
/// Issue 11, item 10: the last segment (every label consumed). RFC 3032 2.4.2: a packet whose popped
/// top TTL is 0 or 1 must not be forwarded, neither labelled nor stripped; before, a one-label
/// stack left as plain IP whatever its TTL. RFC 3032 2.4.3 / RFC 3443 (uniform model): the IP TTL
/// of the packet leaving as plain IP is the popped TTL - 1 when that is lower, so a TTL never grows.
/// </summary>
[TestClass]
public sealed class TtlRuleTests
{
    [TestMethod]
    [DataRow(KeyMode.Metadata, (byte)1)]
    [DataRow(KeyMode.Metadata, (byte)0)]
    [DataRow(KeyMode.HeaderHash, (byte)1)]
    [DataRow(KeyMode.HeaderHash, (byte)0)]
    public void LastSegmentWithTtlOneOrZeroIsNotForwarded(KeyMode mode, byte ttl)
    {
        using var proxy = new ProxyUnderTest(mode);
        var rx = proxy.Rx(Packet.Eth().Mpls(16001, ttl).IPv4(id: 3).Udp().Payload(10).Build());
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict);
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxTtlExpired), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(0ul, moved.GetValueOrDefault(Counter.TxRestoredLast));
        Assert.AreEqual(0, proxy.CacheEntries, "released");
    }

    [TestMethod]
    [DataRow(4, (byte)10, (byte)64, (byte)9)]   // label TTL lower: it becomes the IP TTL
    [DataRow(4, (byte)200, (byte)64, (byte)63)] // IP TTL lower: kept as the VNF left it
    [DataRow(6, (byte)5, (byte)64, (byte)4)]
    [DataRow(6, (byte)255, (byte)30, (byte)29)]
    public void LastPopSetsTheIpTtlNeverHigher(int family, byte labelTtl, byte ipTtl, byte expected)
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        Packet Inner(Packet p, byte t) => (family == 4 ? p.IPv4(id: 4, ttl: t) : p.IPv6(hopLimit: t)).Udp().Payload(10);
        var rx = proxy.Rx(Inner(Packet.Eth().Mpls(16002, labelTtl), ipTtl).Build());
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame));
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.TxRestoredLast));
        CollectionAssert.AreEqual(Inner(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), expected).Build(), tx.Frame,
            "plain IP with the TTL rule applied (IPv4 checksum recomputed)");
    }
}
