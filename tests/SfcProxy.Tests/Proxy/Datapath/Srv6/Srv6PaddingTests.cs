using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy.Datapath.Srv6;

/// <summary>
/// A VNF frame shorter than 60 bytes that reaches tc_tx with Ethernet padding behind its IP packet (a
/// transparent VNF bridging a frame it got padded; only the IP layer trims padding): the restored outer
/// IPv6 header's payload length counts the extension headers and the VNF's IP packet by its length field,
/// not the padding (RFC 8200 3: the length of the IPv6 payload). The padding stays behind the packet. Found
/// by the round-trip contract's "bridge" behaviour (seed 202013383): tc_tx took the payload length from
/// the skb's length.
/// </summary>
[TestClass]
public sealed class Srv6PaddingTests
{
    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void PayloadLengthLeavesEthernetPaddingOut(KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        var chain = Srv6Chain.Popped[1];
        // a NAT-T keepalive: 20 + 8 + 1 bytes of IPv4, a 43-byte frame once popped
        Packet Keepalive(Packet p, byte ttl) => p.IPv4("198.18.0.1", "198.18.0.2", 0, ttl).Udp(4500, 4500).Payload([0xFF]);
        var rx = proxy.Rx(Keepalive(chain.On(Packet.Eth()), 64).Build());
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict);
        var forwarded = KernelVnf.Forward(rx.Frame);
        Assert.AreEqual(43, forwarded.Length);
        byte[] padding = new byte[60 - forwarded.Length];
        var tx = proxy.Tx([.. forwarded, .. padding], rx);
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(moved));
        byte[] want = [.. Keepalive(chain.After(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), 63), 63).Build(), .. padding];
        Assert.AreEqual(Convert.ToHexString(want), Convert.ToHexString(tx.Frame));
    }
}
