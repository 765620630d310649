using System.Buffers.Binary;
using SfcProxy.Datapath;
using SfcProxy.Lab;
using SfcProxy.Proxy;
using SfcProxy.Tests.Bpf;

namespace SfcProxy.Tests.Datapath.Review;

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
    /// A VLAN-tagged IPv4 DF packet of exactly MTU - 8 bytes (the size the ICMP error itself calls
    /// usable) with 8 bytes of labels to push: without the tag the same packet is restored
    /// (Audit/TooBigTests.ExactlyFittingIsRestored). With the tag it is counted tx_too_big and replaced by
    /// an ICMP "fragmentation needed" whose next-hop MTU is 1392, the packet's own size: a sender that
    /// obeys sends 1392 again, and again gets the error (a PMTUD black hole), while the egress would carry
    /// the frame. Expected: tx_restored, frame of 18 + 1400 bytes. Actual: tx_too_big, ICMP with MTU 1392.
    /// </summary>
    [TestMethod]
    [DataRow(1)]
    [DataRow(2)]
    public void VlanTaggedPacketOfExactlyTheAdvertisedUsableSizeIsRefused(int tags)
    {
        using var net = TestNetwork.Create();
        net.IpIn($"link set {TestNetwork.Veth0} mtu {Mtu}");
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var l2 = tags == 1 ? Packet.Eth().Vlan(100) : Packet.Eth().Vlan(200, tpid: 0x88A8).Vlan(100);
        var rx = proxy.Rx(Stacks.Push(l2, Stack).IPv4(id: 9, fragOff: 0x4000).Udp(40000, 9).Payload(Mtu - Pushed - 28).Build());
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict);
        var frame = KernelVnf.Forward(rx.Frame);
        TxRun tx = default;
        net.Run(() => tx = proxy.Objects.RunTxOn(frame, SfcProxy.Net.NetDevice.IfIndex(TestNetwork.Veth0)));
        var moved = proxy.Moved();
        var l2Len = 14 + 4 * tags;
        string advertised = moved.GetValueOrDefault(Counter.IcmpTooBigSent) > 0 && tx.Frame.Length > l2Len + Pushed + 28
            ? $"ICMP next-hop MTU {BinaryPrimitives.ReadUInt16BigEndian(tx.Frame.AsSpan(l2Len + Pushed + 26))}" : "no ICMP";
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxRestored),
            $"a {Mtu - Pushed}-byte packet ({advertised}) with {tags} tag(s): {XdpRxFixtureTests.Format(moved)}");
        Assert.AreEqual(l2Len + Mtu, tx.Frame.Length);
    }
}
