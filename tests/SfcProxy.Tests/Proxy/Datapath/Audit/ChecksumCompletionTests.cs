using System.Buffers.Binary;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy.Datapath.Audit;

/// <summary>
/// A datagram sent by a socket on the proxy's own host (an SFF or classifier in the next pod)
/// crosses the veth with checksum offload: its UDP checksum field holds only the pseudo-header sum
/// (CHECKSUM_PARTIAL), and that is what xdp_rx sees. The kernel completes the checksum when it
/// hands the datagram to a TUN reader or a socket, so the VNF's packet differs from the popped one
/// in that field alone. Header-hash mode must still find its headers (docs/sfc-proxy.md: no
/// checksum is keyed). With the UDP checksum in the key every such datagram missed.
/// </summary>
[TestClass]
public sealed class ChecksumCompletionTests
{
    private static readonly LabelStackEntry[] Stack = Stacks.Make(2);

    [TestMethod]
    [DataRow(4)]
    [DataRow(6)]
    public void UdpChecksumCompletedBetweenPopAndRestoreStillRestores(int family)
    {
        var ip = family == 4 ? 20 : 40;
        var udp = 14 + 4 * Stack.Length + ip;
        var sfc = Stacks.Push(Packet.Eth(), Stack);
        var complete = (family == 4 ? sfc.IPv4(id: 0, fragOff: 0x4000) : sfc.IPv6()).Udp(41000, 4789).Payload(48, seed: 7).Build();
        var partial = (byte[])complete.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(partial.AsSpan(udp + 6), PseudoHeaderSum(complete, udp - ip, family));

        AssertRestoredAfterCompletion(partial, complete, ip + 6, 2);
    }

    /// <summary>
    /// SCTP from a socket on the same host: a veth offers SCTP CRC offload (tx-checksum-sctp on), so
    /// the common header crosses it with a zero CRC32c; a TUN device does not (off [fixed]), so the
    /// kernel computes the CRC (skb_csum_hwoffload_help) before the VNF reads the packet. The CRC is
    /// the SCTP common header's bytes 8..11: with them in the key every such packet missed.
    /// </summary>
    [TestMethod]
    [DataRow(4)]
    [DataRow(6)]
    public void SctpCrcCompletedBetweenPopAndRestoreStillRestores(int family)
    {
        var ip = family == 4 ? 20 : 40;
        var sctp = 14 + 4 * Stack.Length + ip;
        var sfc = Stacks.Push(Packet.Eth(), Stack);
        var partial = (family == 4 ? sfc.IPv4(id: 0, protocol: SctpPacket.Protocol) : sfc.IPv6(nextHeader: SctpPacket.Protocol))
            .Payload(SctpPacket.WithData()).Build();
        var complete = (byte[])partial.Clone();
        SctpPacket.SetCrc(complete.AsSpan(sctp));

        AssertRestoredAfterCompletion(partial, complete, ip + 8, 4);
    }

    /// <summary>
    /// Pops <paramref name="partial"/>; the VNF reads it with the checksum field (at
    /// <paramref name="field"/> bytes into the inner IP packet) as <paramref name="complete"/> has it
    /// and forwards it; tc_tx must restore its own stack on that packet.
    /// </summary>
    private static void AssertRestoredAfterCompletion(byte[] partial, byte[] complete, int field, int length)
    {
        var inner = 14 + 4 * Stack.Length;
        Assert.IsFalse(partial.AsSpan(inner + field, length).SequenceEqual(complete.AsSpan(inner + field, length)),
            "the partial checksum differs from the complete one");
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var rx = proxy.Rx(partial);
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict);
        var vnfFrame = KernelVnf.Forward(rx.Frame);
        var l2 = KernelVnf.L2Length(vnfFrame);
        complete.AsSpan(inner + field, length).CopyTo(vnfFrame.AsSpan(l2 + field));
        var tx = proxy.Tx(vnfFrame);

        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxRestored), $"restored, not a miss; moved: {XdpRxFixtureTests.Format(moved)}");
        var head = Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), Stacks.AfterVnf(Stack, 1)).Payload(new byte[1]).Build();
        CollectionAssert.AreEqual((byte[])[.. head.AsSpan(0, head.Length - 1), .. vnfFrame.AsSpan(l2)], tx.Frame,
            "its own stack, the VNF's packet with the completed checksum");
        Assert.AreEqual(0, proxy.CacheEntries);
    }

    /// <summary>What Linux leaves in the field of a CHECKSUM_PARTIAL datagram: the folded
    /// pseudo-header sum, not complemented.</summary>
    private static ushort PseudoHeaderSum(byte[] frame, int ipOffset, int family)
    {
        int addresses = family == 4 ? 12 : 8, length = family == 4 ? 8 : 32;
        var udpLength = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(ipOffset + (family == 4 ? 20 : 40) + 4));
        var sum = Checksum.Sum(frame.AsSpan(ipOffset + addresses, length)) + 17u + udpLength;
        return (ushort)~Checksum.Fold(sum);
    }
}
