using System.Buffers.Binary;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy.Datapath.Audit;

/// <summary>
/// The metadata fingerprint "nat" covers "never addresses, ports, checksums" (docs/sfc-proxy.md):
/// a NAT VNF's SCTP packets too. Linux NATs SCTP (nf_nat_proto: ports rewritten, the CRC32c
/// computed again); with the SCTP ports and CRC in the fingerprint every such packet missed
/// (foreign_entry, tx_miss_drop).
/// </summary>
[TestClass]
public sealed class NatFingerprintSctpTests
{
    [TestMethod]
    [DataRow(0, DisplayName = "source port")]
    [DataRow(2, DisplayName = "destination port")]
    public void ANattedSctpPacketFindsItsSlot(int port)
    {
        var stack = Stacks.Make(2);
        using var proxy = new ProxyUnderTest(KeyMode.Metadata);
        Assert.IsTrue(proxy.Objects.Config.TryLookup(0u, out SfcConfig config));
        config.MetaFingerprint = (uint)MetaFingerprint.Nat;
        proxy.Objects.Config.Update(0u, config);
        var sctp = SctpPacket.WithData();
        SctpPacket.SetCrc(sctp);
        var rx = proxy.Rx(Stacks.Push(Packet.Eth(), stack).IPv4(id: 5, protocol: SctpPacket.Protocol).Payload(sctp).Build());
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict);

        var vnf = KernelVnf.Forward(rx.Frame);
        var at = KernelVnf.L2Length(vnf) + 20;
        BinaryPrimitives.WriteUInt16BigEndian(vnf.AsSpan(at + port), 40001); // NAT
        SctpPacket.SetCrc(vnf.AsSpan(at));
        var tx = proxy.Tx(vnf, rx);

        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxRestored), XdpRxFixtureTests.Format(moved));
        var head = Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), Stacks.AfterVnf(stack, 1)).Payload(new byte[1]).Build();
        CollectionAssert.AreEqual((byte[])[.. head.AsSpan(0, head.Length - 1), .. vnf.AsSpan(at - 20)], tx.Frame, "its own stack on the NATted packet");
    }
}
