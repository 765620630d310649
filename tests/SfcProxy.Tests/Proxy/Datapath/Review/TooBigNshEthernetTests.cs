using System.Buffers.Binary;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Tests.Bpf;

namespace SfcProxy.Tests.Proxy.Datapath.Review;

/// <summary>
/// README "MTU": a packet that no longer fits is replaced by an ICMP error "carrying the usable size,
/// the egress MTU minus the pushed headers ... the same for NSH", so that the sender can send less.
/// NSH next protocol Ethernet: tc_tx pushes outer Ethernet + NSH in front of the VNF's whole frame, so
/// the inner Ethernet header AND its VLAN tags travel inside the outer frame's MTU. tc_tx advertises
/// mtu - grow (grow = 14 + NSH length) whatever the inner frame's tags: with one inner tag the size it
/// advertises is 4 bytes more than fits.
/// </summary>
[TestClass]
public sealed class TooBigNshEthernetTests
{
    private const int Mtu = 1400;

    /// <summary>
    /// Egress MTU 1400; an NSH MD1 (24 bytes) frame carrying Ethernet + one 802.1Q tag + IPv4 DF UDP.
    /// Step 1: a packet one byte too big gets ICMP "fragmentation needed" advertising U. Step 2: the
    /// sender obeys and sends exactly U bytes. Expected: restored (it is the usable size). Actual: U =
    /// 1362 (1400 - 14 - 24), but only 1358 fits (the inner tag is 4 bytes of outer payload): the U-byte
    /// packet is tx_too_big again, with the same advice: a path MTU discovery black hole.
    /// The same with IPv6 (ICMPv6 packet too big).
    /// </summary>
    [TestMethod]
    [DataRow(4)]
    [DataRow(6)]
    public void NshEthernetWithAnInnerVlanTag_AdvertisedUsableSizeDoesNotFit(int family)
    {
        using var net = TestNetwork.Create();
        net.IpIn($"link set {TestNetwork.Veth0} mtu {Mtu}");
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var hdr = family == 4 ? 28 : 48;

        (TxRun Tx, Dictionary<Counter, ulong> Moved) Send(int ipLen, ushort id)
        {
            var before = proxy.Moved();
            var frame = (family == 4
                    ? Packet.Eth(Packet.DefaultDst, [0x02, 0x5F, 0x5F, 0, 0, 9]).Nsh(si: 40, ttl: 17).InnerEth().Vlan(55).IPv4(id: id, fragOff: 0x4000)
                    : Packet.Eth(Packet.DefaultDst, [0x02, 0x5F, 0x5F, 0, 0, 9]).Nsh(si: 40, ttl: 17).InnerEth().Vlan(55).IPv6(flowLabel: id))
                .Udp(1000, 2000).Payload(ipLen - hdr, seed: (byte)id).Build();
            var rx = proxy.Rx(frame);
            Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict, ReviewFixtures.Moved(proxy));
            var vnf = KernelVnf.Forward(rx.Frame);
            TxRun tx = default;
            net.Run(() => tx = proxy.Objects.RunTxOn(vnf, SfcProxy.Net.NetDevice.IfIndex(TestNetwork.Veth0)));
            var after = proxy.Moved();
            return (tx, after.ToDictionary(kv => kv.Key, kv => kv.Value - before.GetValueOrDefault(kv.Key)));
        }

        var (first, m1) = Send(Mtu, 1);
        Assert.AreEqual(1ul, m1.GetValueOrDefault(Counter.IcmpTooBigSent), XdpRxFixtureTests.Format(m1));
        var icmp = first.Frame.AsSpan(14 + 24 + 18);
        int usable = family == 4 ? BinaryPrimitives.ReadUInt16BigEndian(icmp[26..]) : (int)BinaryPrimitives.ReadUInt32BigEndian(icmp[44..]);

        var (second, m2) = Send(usable, 2);
        Assert.AreEqual(1ul, m2.GetValueOrDefault(Counter.TxRestored),
            $"a packet of the advertised usable size {usable} must fit: {XdpRxFixtureTests.Format(m2)}");
        Assert.IsLessThanOrEqualTo(14 + Mtu, second.Frame.Length);
    }
}
