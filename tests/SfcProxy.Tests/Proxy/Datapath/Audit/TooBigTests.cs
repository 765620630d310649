using System.Buffers.Binary;
using System.Net;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Tests.Bpf;

namespace SfcProxy.Tests.Proxy.Datapath.Audit;

/// <summary>
/// Issue 11, item 9: a restored packet that no longer fits the egress MTU. Before, tc_tx counted it
/// restored and the interface dropped it (TX dropped) with no word to the sender. Now it is counted
/// tx_too_big and, where the packet asks for path MTU discovery, replaced by the ICMP error that
/// tells its sender the usable size (MTU minus the pushed headers), sent on along the chain with the
/// packet's own headers (RFC 3032 2.3.2, 3.3). tc_tx runs with the egress set to a veth of MTU 1400
/// (the test run's skb->dev), in a namespace of its own.
/// </summary>
[TestClass]
public sealed class TooBigTests
{
    private const int Mtu = 1400;
    private static readonly LabelStackEntry[] Stack = Stacks.Make(3); // 2 pushed back: 8 bytes
    private const int Pushed = 8;

    private static TxRun TxOn(ProxyUnderTest proxy, TestNetwork net, byte[] frame)
    {
        TxRun tx = default;
        net.Run(() => tx = proxy.Objects.RunTxOn(frame, SfcProxy.Net.NetDevice.IfIndex(TestNetwork.Veth0)));
        return tx;
    }

    private static (ProxyUnderTest, TestNetwork) Setup(KeyMode mode = KeyMode.HeaderHash)
    {
        var net = TestNetwork.Create();
        net.IpIn($"link set {TestNetwork.Veth0} mtu {Mtu}");
        return (new ProxyUnderTest(mode), net);
    }

    [TestMethod]
    [DataRow(4)]
    [DataRow(6)]
    public void TooBigWithPathMtuDiscoveryBecomesAnIcmpErrorWithTheUsableSize(int family)
    {
        var (proxy, net) = Setup();
        using var _p = proxy;
        using var _n = net;
        var ipLen = Mtu - Pushed + 1; // one byte too many once the labels are back
        var l4 = family == 4 ? ipLen - 20 - 8 : ipLen - 40 - 8;
        Packet Inner(Packet p, byte ttl) => (family == 4 ? p.IPv4(id: 7, ttl: ttl, fragOff: 0x4000) : p.IPv6(hopLimit: ttl)).Udp(40000, 9).Payload(l4);
        var rx = proxy.Rx(Inner(Stacks.Push(Packet.Eth(), Stack), 64).Build());
        var vnf = KernelVnf.Forward(rx.Frame);
        var tx = TxOn(proxy, net, vnf);

        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, "the ICMP error leaves in the packet's place");
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxTooBig), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.IcmpTooBigSent), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, XdpRxFixtureTests.OutcomeSum(moved, "Tx"), XdpRxFixtureTests.Format(moved));

        // its own restored stack, then the ICMP error
        var labels = Stacks.AfterVnf(Stack, 1);
        var head = Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), labels).Payload(new byte[1]).Build()[..^1];
        CollectionAssert.AreEqual(head, tx.Frame[..head.Length], "the packet's own labels, TTL decremented");
        var icmp = tx.Frame[head.Length..];
        Assert.IsLessThanOrEqualTo(Mtu - Pushed, icmp.Length, "the error itself fits");
        var quoted = vnf[14..];
        if (family == 4)
        {
            Assert.AreEqual(0x45, icmp[0]);
            Assert.IsTrue(Checksum.IPv4HeaderValid(icmp, 0), "IPv4 header checksum");
            Assert.AreEqual(1, icmp[9], "ICMP");
            CollectionAssert.AreEqual(quoted[12..16], icmp[16..20], "to the packet's source");
            Assert.AreEqual(3, icmp[20], "destination unreachable");
            Assert.AreEqual(4, icmp[21], "fragmentation needed");
            Assert.AreEqual(Mtu - Pushed, BinaryPrimitives.ReadUInt16BigEndian(icmp.AsSpan(26)), "next-hop MTU: the usable size");
            Assert.AreEqual(0, Checksum.Fold(Checksum.Sum(icmp.AsSpan(20))), "ICMP checksum");
            CollectionAssert.AreEqual(quoted[..(icmp.Length - 28)], icmp[28..], "quotes the packet from its IP header");
            Assert.IsLessThanOrEqualTo(576, icmp.Length, "RFC 1812: at most 576 bytes");
        }
        else
        {
            Assert.AreEqual(0x60, icmp[0] & 0xF0);
            Assert.AreEqual(58, icmp[6], "ICMPv6");
            CollectionAssert.AreEqual(quoted[8..24], icmp[24..40], "to the packet's source");
            Assert.AreEqual(2, icmp[40], "packet too big");
            Assert.AreEqual((uint)(Mtu - Pushed), BinaryPrimitives.ReadUInt32BigEndian(icmp.AsSpan(44)), "MTU: the usable size");
            var pseudo = Checksum.Sum(icmp.AsSpan(8, 32)) + (uint)(icmp.Length - 40) + 58;
            Assert.AreEqual(0, Checksum.Fold(pseudo + Checksum.Sum(icmp.AsSpan(40))), "ICMPv6 checksum");
            CollectionAssert.AreEqual(quoted[..(icmp.Length - 48)], icmp[48..], "quotes the packet from its IP header");
            Assert.IsLessThanOrEqualTo(1280, icmp.Length, "RFC 4443: at most the minimum MTU");
        }
    }

    [TestMethod]
    public void TooBigWithoutDfIsDroppedAndCountedWithNoIcmp()
    {
        var (proxy, net) = Setup();
        using var _p = proxy;
        using var _n = net;
        var rx = proxy.Rx(Stacks.Push(Packet.Eth(), Stack).IPv4(id: 8, fragOff: 0).Udp(40000, 9).Payload(Mtu - 20 - 8).Build());
        var tx = TxOn(proxy, net, KernelVnf.Forward(rx.Frame));
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict);
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxTooBig), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(0ul, moved.GetValueOrDefault(Counter.IcmpTooBigSent));
    }

    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void ExactlyFittingIsRestored(KeyMode mode)
    {
        var (proxy, net) = Setup(mode);
        using var _p = proxy;
        using var _n = net;
        var rx = proxy.Rx(Stacks.Push(Packet.Eth(), Stack).IPv4(id: 9).Udp(40000, 9).Payload(Mtu - Pushed - 28).Build());
        var tx = Tx(proxy, net, rx);
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(proxy.Moved()));
        Assert.AreEqual(14 + Mtu, tx.Frame.Length, "exactly the MTU");
    }

    private static TxRun Tx(ProxyUnderTest proxy, TestNetwork net, RxRun rx)
    {
        TxRun tx = default;
        var frame = KernelVnf.Forward(rx.Frame);
        net.Run(() => tx = proxy.Objects.RunTxOn(frame, SfcProxy.Net.NetDevice.IfIndex(TestNetwork.Veth0), rx.MetaKey ?? 0));
        return tx;
    }
}
