using System.Buffers.Binary;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Audit;

/// <summary>
/// Issue 11, items 4, 6 and 8: the metadata key in skb->mark. A mark some rule changed leads to a
/// slot the fingerprint shows is another packet's; the key lives in the bits the operator gives it
/// and leaves every other bit alone; a slot never comes round early (no sequence wrap).
/// </summary>
[TestClass]
[DoNotParallelize] // pins threads to CPUs
public sealed class MetadataKeyTests
{
    private static LabelStackEntry[] StackOf(int i) => [new(21000u + (uint)i, 1, false, 60), new(41000u + (uint)i, 0, true, 61)];

    private static Packet InnerOf(int i) => Packet.Eth().IPv4(id: (ushort)(0x100 + i)).Udp(40000, 53).Payload(24, seed: (byte)i);

    private static byte[] Sfc(int i) => Stacks.Push(Packet.Eth(), StackOf(i)).IPv4(id: (ushort)(0x100 + i)).Udp(40000, 53).Payload(24, seed: (byte)i).Build();

    private static byte[] Restored(int i) =>
        Stacks.Push(Packet.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), Stacks.AfterVnf(StackOf(i), 1))
            .IPv4(id: (ushort)(0x100 + i), ttl: 63).Udp(40000, 53).Payload(24, seed: (byte)i).Build();

    /// <summary>
    /// `iptables -j MARK --xor-mark` (or a VNF) turns packet b's mark into packet a's key while a is
    /// still in the VNF: the slot is a's, its fingerprint is not b's, so b misses (counted
    /// foreign_entry) and a still leaves with its own stack. Before, b left with a's stack.
    /// </summary>
    [TestMethod]
    public void AMarkChangedIntoAnotherPacketsKeyMisses()
    {
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Drop);
        var (a, b) = CpuAffinity.On(0, () => (proxy.Rx(Sfc(1)), proxy.Rx(Sfc(2))));
        var forged = (b.MetaKey!.Value ^ a.MetaKey!.Value) != 0 ? a.MetaKey!.Value : throw new AssertFailedException("distinct keys");
        var tb = proxy.Tx(KernelVnf.Forward(b.Frame), forged);
        Assert.AreEqual(ProxyTestRuns.TcShot, tb.Verdict, "b misses: drop policy");
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxMissDrop), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.ForeignEntry), XdpRxFixtureTests.Format(moved));
        CollectionAssert.AreEqual(Restored(1), proxy.Tx(KernelVnf.Forward(a.Frame), a).Frame, "a keeps its own");
        CollectionAssert.AreEqual(Restored(2), proxy.Tx(KernelVnf.Forward(b.Frame), b).Frame, "b with its own mark still finds its own");
    }

    /// <summary>Every bit flip of a key either misses or finds its own packet: never another's.</summary>
    [TestMethod]
    public void NoBitFlipOfAKeyRestoresAnotherPacket()
    {
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Pass, cacheSize: 64 * MetadataSlots.Rings);
        var pops = CpuAffinity.On(0, () => Enumerable.Range(0, 40).Select(i => proxy.Rx(Sfc(i))).ToArray());
        Assert.IsTrue(pops.All(p => p.Verdict == ProxyTestRuns.XdpPass), "all 40 cached at once");
        for (var bit = 16; bit < 32; bit++)
        {
            var i = bit % 40;
            var vnf = KernelVnf.Forward(pops[i].Frame);
            var tx = proxy.Tx(vnf, pops[i].MetaKey!.Value ^ (1u << bit));
            Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict);
            CollectionAssert.AreEqual(vnf, tx.Frame, $"bit {bit}: sent as the VNF emitted it (pass policy), with no stack");
        }
        for (var i = 0; i < 40; i++)
            CollectionAssert.AreEqual(Restored(i), proxy.Tx(KernelVnf.Forward(pops[i].Frame), pops[i]).Frame, $"packet {i} restored afterwards");
    }

    /// <summary>
    /// Metadata:MarkMask: the key goes into those bits only; kube-proxy's 0x4000/0x8000 bits that a
    /// rule set on the way stay as they are on the way out (before, the key took bits 8-31, and tc_tx
    /// cleared the whole mark).
    /// </summary>
    [TestMethod]
    public void TheKeyLivesInItsMaskAndOtherMarkBitsSurvive()
    {
        const uint mask = 0x00FF_0000u; // bits 16-23
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, markMask: mask, cacheSize: 128);
        var rx = proxy.Rx(Sfc(3));
        var key = rx.MetaKey!.Value;
        Assert.AreNotEqual(0u, key);
        Assert.AreEqual(0u, key & ~mask, $"key 0x{key:x8} only in mask 0x{mask:x8}");
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), key | 0x4000u | 0x8000u | 0x0F00u);
        CollectionAssert.AreEqual(Restored(3), tx.Frame);
        Assert.AreEqual(0x4000u | 0x8000u | 0x0F00u, tx.Mark, "the other users' bits leave as they came, ours cleared");
    }

    /// <summary>
    /// Item 8: with a ring size that does not divide any power of two, a long run of pops never
    /// finds a slot of its ring early: with one packet in the VNF at a time no pop is ever refused.
    /// </summary>
    [TestMethod]
    public void ARingThatDoesNotDivideTheSequenceNeverRefusesWithFreeSlots()
    {
        var rings = MetadataSlots.Rings;
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, cacheSize: 97 * rings, metaMaxAgeNs: 3_600_000_000_000UL);
        // the cursor's sequence just before 2^23 and 2^24: where the old key wrapped
        var seq = proxy.Objects.PacketSeq;
        CpuAffinity.On(0, () =>
        {
            foreach (var start in new[] { (1u << 23) - 150, (1u << 24) - 150, uint.MaxValue - 150 })
            {
                seq.UpdatePerCpu(0u, Enumerable.Repeat((ulong)start, (int)SfcProxy.Bpf.BpfMap.PossibleCpuCount).ToArray());
                for (var i = 0; i < 400; i++)
                {
                    var rx = proxy.Rx(Sfc(i % 50));
                    Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict, $"from {start}: pop {i}: {XdpRxFixtureTests.Format(proxy.Moved())}");
                    CollectionAssert.AreEqual(Restored(i % 50), proxy.Tx(KernelVnf.Forward(rx.Frame), rx).Frame, $"from {start}: restore {i}");
                }
            }
        });
        Assert.AreEqual(0ul, proxy.Moved().GetValueOrDefault(Counter.RxCacheFull));
    }
}
