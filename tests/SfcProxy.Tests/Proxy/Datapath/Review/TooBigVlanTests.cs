using System.Buffers.Binary;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Tests.Bpf;

namespace SfcProxy.Tests.Proxy.Datapath.Review;

/// <summary>
/// README "MTU": tc_tx checks the restored packet against the egress MTU and, when it no longer fits,
/// sends an ICMP error "carrying the usable size, the egress MTU minus the pushed headers". tc_tx keeps
/// in-band VLAN tags (parse_eth_vlans / copy_l2), but bpf_check_mtu(skb, 0, &amp;mtu, grow, 0) compares
/// skb->len (Ethernet header AND the in-band tags AND the IP packet) + grow with MTU +
/// hard_header_len (14): every in-band tag costs 4 bytes of MTU. A veth (is_skb_forwardable(): MTU +
/// 14 + VLAN_HLEN) and Ethernet NICs carry a tagged frame of MTU bytes of L3.
/// </summary>
[TestClass]
public sealed class TooBigVlanTests
{
    private const int Mtu = 1400;
    private static readonly LabelStackEntry[] Stack = Stacks.Make(3); // 2 pushed back: 8 bytes
    private const int Pushed = 8;

    /// <summary>
    /// A VLAN-tagged IPv4 DF packet of the usable size the ICMP error advertises, with 8 bytes of
    /// labels to push. The review found a one-tag packet of MTU - 8 bytes refused and answered with
    /// "1392", its own size (a PMTUD black hole), while the egress carries it. Now the first in-band
    /// tag rides beyond the MTU as Linux lets it (is_skb_forwardable()) and a second counts (veth and
    /// NICs carry MTU + 4 for a tagged frame, not + 8): one tag: MTU - 8 is restored; QinQ: the
    /// advertised size is MTU - 12, and a packet of that size is restored, so what the error says is
    /// what fits.
    /// </summary>
    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void VlanTaggedPacketOfTheAdvertisedUsableSizeIsRestored(int tags)
    {
        using var net = TestNetwork.Create();
        net.IpIn($"link set {TestNetwork.Veth0} mtu {Mtu}");
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var l2 = tags == 1 ? Packet.Eth().Vlan(100) : Packet.Eth().Vlan(200, tpid: 0x88A8).Vlan(100);
        var l2Len = 14 + 4 * tags;
        TxRun Send(int ipLen, ushort id)
        {
            var rx = proxy.Rx(Stacks.Push(l2, Stack).IPv4(id: id, fragOff: 0x4000).Udp(40000, 9).Payload(ipLen - 28).Build());
            Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict);
            var frame = KernelVnf.Forward(rx.Frame);
            TxRun tx = default;
            net.Run(() => tx = proxy.Objects.RunTxOn(frame, SfcProxy.Net.NetDevice.IfIndex(TestNetwork.Veth0)));
            return tx;
        }

        // one byte too many: the error advertises what fits
        var big = Send(Mtu - Pushed - 4 * (tags - 1) + 1, 9);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.IcmpTooBigSent), XdpRxFixtureTests.Format(proxy.Moved()));
        var advertised = BinaryPrimitives.ReadUInt16BigEndian(big.Frame.AsSpan(l2Len + Pushed + 26));
        Assert.AreEqual(Mtu - Pushed - 4 * (tags - 1), advertised, "the usable size");

        var fits = Send(advertised, 10);
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(proxy.Moved()));
        Assert.AreEqual(l2Len + Pushed + advertised, fits.Frame.Length);
    }
}
