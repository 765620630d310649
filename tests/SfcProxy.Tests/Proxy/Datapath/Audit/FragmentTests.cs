using System.Buffers.Binary;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Audit;

/// <summary>
/// Issue 11, item 5: a stateful kernel VNF (conntrack) reassembles the fragments of a datagram and
/// refragments it on output, every piece carrying the mark of the fragment it reassembled into.
/// Before, the first piece was restored and every other one missed. Now the fragments of a datagram
/// share one slot and key (metadata mode), and every piece that leaves, whatever its boundaries,
/// gets the datagram's headers; the slot is freed when all the datagram's bytes have left.
/// </summary>
[TestClass]
[DoNotParallelize] // pins threads to CPUs
public sealed class FragmentTests
{
    private static readonly LabelStackEntry[] Stack = [new(22001, 3, false, 50), new(22002, 0, true, 51)];
    private const ushort Id = 0x4242;

    /// <summary>A UDP datagram of <paramref name="payload"/> bytes as IPv4 would send it whole (no DF).</summary>
    private static byte[] Datagram(int payload) =>
        Packet.Eth().IPv4(id: Id, fragOff: 0).Udp(50000, 5353).Payload(payload, seed: 9).Build()[14..];

    /// <summary>IPv4 fragments of <paramref name="datagram"/> (an IPv4 packet) carrying at most
    /// <paramref name="chunk"/> payload bytes each (a multiple of 8), headers as the kernel makes them.</summary>
    private static List<byte[]> Fragments(byte[] datagram, int chunk, byte ttl)
    {
        var payload = datagram[20..];
        var list = new List<byte[]>();
        for (var off = 0; off < payload.Length; off += chunk)
        {
            var n = Math.Min(chunk, payload.Length - off);
            var more = off + n < payload.Length;
            var fragOff = (ushort)((more ? 0x2000 : 0) | (off / 8));
            list.Add(Packet.Eth().IPv4(id: Id, ttl: ttl, fragOff: fragOff, protocol: 17).Payload(payload.AsSpan(off, n)).Build()[14..]);
        }
        return list;
    }

    private static byte[] Sfc(byte[] ip) => Stacks.Push(Packet.Eth(), Stack).Ip(ip).Build();

    private static byte[] FromVnf(byte[] ip) => Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac).Ip(ip).Build();

    private static byte[] Restored(byte[] ip) =>
        Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), Stacks.AfterVnf(Stack, 1)).Ip(ip).Build();

    private static (ProxyUnderTest Proxy, uint Mark) PopFragments(List<byte[]> fragments)
    {
        var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Drop);
        uint? mark = null;
        CpuAffinity.On(0, () =>
        {
            foreach (var f in fragments)
            {
                var rx = proxy.Rx(Sfc(f));
                Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict, XdpRxFixtureTests.Format(proxy.Moved()));
                mark ??= rx.MetaKey;
                Assert.AreEqual(mark, rx.MetaKey, "every fragment of the datagram carries its key");
            }
        });
        Assert.AreEqual(1, proxy.CacheEntries, "one slot for the datagram");
        Assert.AreEqual((ulong)fragments.Count - 1, proxy.Moved().GetValueOrDefault(Counter.FragJoined));
        return (proxy, mark!.Value);
    }

    [TestMethod]
    public void ReassembledAndSentWholeIsRestored()
    {
        var datagram = Datagram(2900);
        var (proxy, mark) = PopFragments(Fragments(datagram, 1480, 64));
        using var _ = proxy;
        var whole = (byte[])datagram.Clone();
        whole[8] = 63; // the VNF's hop
        FixIpChecksum(whole);
        var tx = proxy.Tx(FromVnf(whole), mark);
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, XdpRxFixtureTests.Format(proxy.Moved()));
        CollectionAssert.AreEqual(Restored(whole), tx.Frame);
        Assert.AreEqual(0, proxy.CacheEntries, "the whole datagram left: the slot is free");
    }

    [TestMethod]
    [DataRow(1480, 1000)]
    [DataRow(1480, 504)]
    [DataRow(800, 1480)]
    public void RefragmentedOnOtherBoundariesEveryPieceIsRestored(int inChunk, int outChunk)
    {
        var datagram = Datagram(2900);
        var (proxy, mark) = PopFragments(Fragments(datagram, inChunk, 64));
        using var _ = proxy;
        var pieces = Fragments(datagram, outChunk, 63);
        for (var i = 0; i < pieces.Count; i++)
        {
            var tx = proxy.Tx(FromVnf(pieces[i]), mark);
            Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, $"piece {i}: {XdpRxFixtureTests.Format(proxy.Moved())}");
            CollectionAssert.AreEqual(Restored(pieces[i]), tx.Frame, $"piece {i} of {pieces.Count}");
            Assert.AreEqual(i < pieces.Count - 1 ? 1 : 0, proxy.CacheEntries, $"after piece {i}: freed with the datagram's last byte");
        }
        Assert.AreEqual((ulong)pieces.Count, proxy.Moved().GetValueOrDefault(Counter.TxRestored));
    }

    /// <summary>A stateless VNF forwards each fragment with its own (the datagram's) mark, in any order.</summary>
    [TestMethod]
    public void ForwardedAsTheyCameInAnyOrderEveryFragmentIsRestored()
    {
        var frags = Fragments(Datagram(4000), 1200, 64);
        frags.Reverse(); // the last fragment first
        var (proxy, mark) = PopFragments(frags);
        using var _ = proxy;
        foreach (var f in frags.AsEnumerable().Reverse())
        {
            var out1 = (byte[])f.Clone();
            out1[8]--;
            FixIpChecksum(out1);
            CollectionAssert.AreEqual(Restored(out1), proxy.Tx(FromVnf(out1), mark).Frame);
        }
        Assert.AreEqual(0, proxy.CacheEntries);
    }

    /// <summary>Fragments of one datagram arriving with different SFC headers cannot share a slot: the
    /// later one is refused (rx_key_conflict), the first keeps its headers.</summary>
    [TestMethod]
    public void AFragmentWithOtherHeadersIsRefused()
    {
        var frags = Fragments(Datagram(2000), 1480, 64);
        using var proxy = new ProxyUnderTest(KeyMode.Metadata);
        CpuAffinity.On(0, () =>
        {
            Assert.AreEqual(ProxyTestRuns.XdpPass, proxy.Rx(Sfc(frags[0])).Verdict);
            var other = Stacks.Push(Packet.Eth(), [new(33001, 0, true, 9)]).Ip(frags[1]).Build();
            Assert.AreEqual(ProxyTestRuns.XdpDrop, proxy.Rx(other).Verdict);
        });
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxKeyConflict), XdpRxFixtureTests.Format(proxy.Moved()));
    }

    /// <summary>
    /// An IPv6 atomic fragment (offset 0, no more fragments) is a whole packet (RFC 6946 4): two with
    /// the same identification but other headers are not grouped, and each is restored, also after a
    /// reassembling VNF stripped its fragment header (it leaves 8 bytes shorter). Found by the
    /// end-to-end corpus behind a conntrack VNF: every atomic fragment was lost.
    /// </summary>
    [TestMethod]
    [DataRow(KeyMode.Metadata)]
    [DataRow(KeyMode.HeaderHash)]
    public void AnAtomicFragmentIsAWholePacketAndSurvivesItsHeaderBeingStripped(KeyMode mode)
    {
        LabelStackEntry[] other = [new(33001, 0, false, 9), new(33002, 0, true, 30)];
        Packet Atomic(Packet p, ushort sport, byte hop) => p.IPv6(hopLimit: hop).Fragment6(0, false, 77).Udp(sport, 53).Payload(40, seed: 1);
        Packet Stripped(Packet p, ushort sport, byte hop) => p.IPv6(hopLimit: hop).Udp(sport, 53).Payload(40, seed: 1);
        using var proxy = new ProxyUnderTest(mode);
        var a = CpuAffinity.On(0, () => proxy.Rx(Atomic(Stacks.Push(Packet.Eth(), Stack), 1000, 64).Build()));
        var b = CpuAffinity.On(0, () => proxy.Rx(Atomic(Stacks.Push(Packet.Eth(), other), 2000, 64).Build()));
        Assert.AreEqual(ProxyTestRuns.XdpPass, a.Verdict);
        Assert.AreEqual(ProxyTestRuns.XdpPass, b.Verdict, "not grouped with the other atomic fragment");
        Assert.AreEqual(0ul, proxy.Moved().GetValueOrDefault(Counter.FragJoined));

        var ta = proxy.Tx(Stripped(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), 1000, 63).Build(), a.MetaKey ?? 0);
        CollectionAssert.AreEqual(Stripped(Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), Stacks.AfterVnf(Stack, 1)), 1000, 63).Build(),
            ta.Frame, "stripped of its fragment header by the VNF: restored");
        var tb = proxy.Tx(Atomic(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), 2000, 63).Build(), b.MetaKey ?? 0);
        CollectionAssert.AreEqual(Atomic(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac).Mpls(33002, 8), 2000, 63).Build(),
            tb.Frame, "forwarded as it came: restored with its own stack");
        Assert.AreEqual(0, proxy.CacheEntries);
    }

    private static void FixIpChecksum(byte[] ip)
    {
        var hl = (ip[0] & 0x0F) * 4;
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), 0);
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Checksum.Fold(Checksum.Sum(ip.AsSpan(0, hl))));
    }
}
