using System.Buffers.Binary;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Review;

/// <summary>
/// Metadata-mode fragment groups. README ("The key modes", Fragments): the fragments of one datagram
/// share one slot and key; "tc_tx restores every piece that carries the key, whatever its boundaries:
/// conntrack's reassembled datagram sent whole, its refragmented pieces, or the fragments forwarded as
/// they came, in any order". Contract: every packet leaves with its own headers or a counted verdict,
/// never another packet's; a changed mark "makes packets miss (counted), never swap headers".
/// </summary>
[TestClass]
[DoNotParallelize] // pins threads to CPUs
public sealed class FragmentReviewTests
{
    private static readonly LabelStackEntry[] S1 = [new(24001, 1, false, 40), new(24002, 0, true, 41)];
    private static readonly LabelStackEntry[] S2 = [new(46001, 2, false, 50), new(46002, 0, true, 51)];

    /// <summary>
    /// An IPv6 datagram whose fragmentable part starts with a destination options header (RFC 8200 4.1's
    /// order: Fragment, then the final Destination Options, then UDP). A conntrack VNF reassembles it
    /// and sends it whole (fits the MTU). tc_tx's datagram_fits() compares the whole packet's l4_avail
    /// (bytes after ALL extension headers, the destination options included) with frag_total (the
    /// fragmentable length, which includes the destination options header): they differ by its 8
    /// bytes, so the datagram is taken for another packet's (foreign_entry) and misses; the slot stays
    /// until MaxAge. Worse, first: the first fragment's group key and fingerprint hold the protocol
    /// after the walk (UDP, 17) and a later fragment's the fragment header's next header (60): the two
    /// fragments of one datagram get two slots and two keys (the reassembled datagram's slot never
    /// learns frag_total, so it misses whatever its length). The same with AH after the fragment header.
    /// Expected: restored with S1, one slot, freed. Actual: two keys, tx_miss_drop + foreign_entry.
    /// </summary>
    [TestMethod]
    public void Ipv6DatagramWithDestinationOptionsAfterTheFragmentHeader_ReassembledWhole_Misses()
    {
        var datagram = Packet.Eth().IPv6().DestinationOptions(8).Udp(5000, 4789).Payload(2400, seed: 3).Build()[14..];
        var frags = ReviewFixtures.Ipv6Fragments(datagram, 1232, id: 0xabcd);
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Drop);
        var keys = CpuAffinity.On(0, () => frags.Select(f => proxy.Rx(ReviewFixtures.Sfc(f, S1))).ToList());
        Assert.IsTrue(keys.All(k => k.Verdict == ProxyTestRuns.XdpPass), ReviewFixtures.Moved(proxy));
        var distinct = keys.Select(k => k.MetaKey).Distinct().Count();

        // reassembled by the VNF (hop limit - 1), carrying the mark of one of its fragments: either must do
        var whole = ReviewFixtures.Hop(datagram);
        var verdicts = new List<string>();
        foreach (var k in keys.Select(k => k.MetaKey!.Value).Distinct())
        {
            var tx = proxy.Tx(ReviewFixtures.FromVnf(whole), k);
            var ok = tx.Frame.AsSpan().SequenceEqual(ReviewFixtures.Restored(whole, S1));
            verdicts.Add($"key 0x{k:x8}: {(ok ? "restored" : "not restored")}");
            if (ok)
                break;
        }
        Assert.IsTrue(verdicts[^1].EndsWith(": restored", StringComparison.Ordinal),
            $"the reassembled datagram must be restored; fragments got {distinct} distinct keys (first and later fragment " +
            $"grouped under different upper-layer protocols); {string.Join(", ", verdicts)}: {ReviewFixtures.Moved(proxy)}");
        Assert.AreEqual(1, distinct, "one key for the datagram");
        Assert.AreEqual(0, proxy.CacheEntries, "the whole datagram left: slot free");
    }

    /// <summary>
    /// Two IPv6 UDP datagrams between the same two hosts (ids 1 and 2, other ports and payloads) are in
    /// the VNF with different stacks. A rule changes the mark of D1's second (later) fragment into D2's
    /// key (the threat of issue 11 item 4). The strict datagram fingerprint of IPv6 is only family,
    /// protocol and addresses (no identification, no payload), a later fragment has no upper-layer head
    /// to compare, and the lengths fit: the fragment is restored with D2's stack, nothing counted.
    /// Expected: a miss counted foreign_entry. Actual: D1's fragment leaves with S2.
    /// </summary>
    [TestMethod]
    public void Ipv6LaterFragmentWithAChangedMark_LeavesWithAnotherDatagramsStack()
    {
        var d1 = Packet.Eth().IPv6().Udp(5001, 53).Payload(1600, seed: 1).Build()[14..];
        var d2 = Packet.Eth().IPv6().Udp(5002, 53).Payload(1600, seed: 2).Build()[14..];
        var f1 = ReviewFixtures.Ipv6Fragments(d1, 1232, id: 1);
        var f2 = ReviewFixtures.Ipv6Fragments(d2, 1232, id: 2);
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Drop);
        var (r1, r2) = CpuAffinity.On(0, () => (f1.Select(f => proxy.Rx(ReviewFixtures.Sfc(f, S1))).ToList(),
                                                 f2.Select(f => proxy.Rx(ReviewFixtures.Sfc(f, S2))).ToList()));
        Assert.IsTrue(r1.Concat(r2).All(r => r.Verdict == ProxyTestRuns.XdpPass), ReviewFixtures.Moved(proxy));
        Assert.AreNotEqual(r1[0].MetaKey, r2[0].MetaKey);

        var piece = ReviewFixtures.Hop(f1[1]);
        var tx = proxy.Tx(ReviewFixtures.FromVnf(piece), r2[0].MetaKey!.Value); // D1's fragment, D2's key
        CollectionAssert.AreNotEqual(ReviewFixtures.Restored(piece, S2), tx.Frame,
            $"D1's fragment left with D2's stack: {ReviewFixtures.Moved(proxy)}");
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.ForeignEntry), ReviewFixtures.Moved(proxy));
    }

    /// <summary>
    /// Two IPv4 UDP datagrams from two different sources happen to use the same IPv4 id (each source
    /// has its own id counter) and carry different payloads. A rule changes the mark of D1's later
    /// fragment into D2's key. The review found it restored with D2's stack under the nat fingerprint,
    /// whose datagram identity is family, protocol and id (addresses are NAT's to rewrite, and a later
    /// fragment has no payload head to compare): README now says so, a documented limit of nat. Under
    /// the strict fingerprint (the default) the addresses tell the datagrams apart: a miss, counted
    /// foreign_entry.
    /// </summary>
    [TestMethod]
    public void StrictFingerprint_LaterFragmentWithAChangedMarkToADatagramOfTheSameIdMisses()
    {
        var d1 = Packet.Eth().IPv4(src: "198.18.1.1", id: 0x1234, fragOff: 0).Udp(5001, 53).Payload(1992, seed: 1).Build()[14..];
        var d2 = Packet.Eth().IPv4(src: "198.18.1.7", id: 0x1234, fragOff: 0).Udp(5001, 53).Payload(1992, seed: 2).Build()[14..];
        var f1 = ReviewFixtures.Ipv4Fragments(d1, 1000);
        var f2 = ReviewFixtures.Ipv4Fragments(d2, 1000);
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Drop);
        var (r1, r2) = CpuAffinity.On(0, () => (f1.Select(f => proxy.Rx(ReviewFixtures.Sfc(f, S1))).ToList(),
                                                 f2.Select(f => proxy.Rx(ReviewFixtures.Sfc(f, S2))).ToList()));
        Assert.IsTrue(r1.Concat(r2).All(r => r.Verdict == ProxyTestRuns.XdpPass), ReviewFixtures.Moved(proxy));
        Assert.AreNotEqual(r1[0].MetaKey, r2[0].MetaKey);

        var piece = ReviewFixtures.Hop(f1[1]);
        var tx = proxy.Tx(ReviewFixtures.FromVnf(piece), r2[0].MetaKey!.Value);
        CollectionAssert.AreNotEqual(ReviewFixtures.Restored(piece, S2), tx.Frame,
            $"D1's fragment left with D2's stack: {ReviewFixtures.Moved(proxy)}");
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.ForeignEntry), ReviewFixtures.Moved(proxy));
    }

    /// <summary>
    /// IPv4 datagram in two fragments of 1000 bytes each; the VNF (or the network before the proxy)
    /// duplicates the last fragment. tc_tx adds up restored bytes: the last fragment twice makes 2000 =
    /// frag_total and frees the slot while the first fragment is still in the VNF; the first fragment
    /// then misses. README: every piece that carries the key is restored, in any order; the slot is freed
    /// "when the whole datagram has left". Header-hash mode restores every copy of a duplicate.
    /// Expected: the first fragment restored with S1. Actual: tx_miss_drop.
    /// </summary>
    [TestMethod]
    public void DuplicatedFragmentFreesTheSlotEarly_SiblingFragmentMisses()
    {
        var datagram = Packet.Eth().IPv4(id: 0x5151, fragOff: 0).Udp(6000, 53).Payload(1992, seed: 4).Build()[14..];
        var frags = ReviewFixtures.Ipv4Fragments(datagram, 1000);
        Assert.AreEqual(2, frags.Count);
        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Drop);
        var rx = CpuAffinity.On(0, () => frags.Select(f => proxy.Rx(ReviewFixtures.Sfc(f, S1))).ToList());
        var key = rx[0].MetaKey!.Value;

        var last = ReviewFixtures.Hop(frags[1]);
        CollectionAssert.AreEqual(ReviewFixtures.Restored(last, S1), proxy.Tx(ReviewFixtures.FromVnf(last), key).Frame);
        CollectionAssert.AreEqual(ReviewFixtures.Restored(last, S1), proxy.Tx(ReviewFixtures.FromVnf(last), key).Frame, "the duplicate");
        var first = ReviewFixtures.Hop(frags[0]);
        var tx = proxy.Tx(ReviewFixtures.FromVnf(first), key);
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, $"the first fragment, still in the VNF, must be restored: {ReviewFixtures.Moved(proxy)}");
        CollectionAssert.AreEqual(ReviewFixtures.Restored(first, S1), tx.Frame);
    }

    // WithoutGenerationBits_ASlotFreedEarlyGivesALateFragmentAnotherDatagramsStack (the review's: a
    // mask of 2 bits with 3 slots, no generation bits, and the early free above let a late fragment
    // take the next datagram's key) is gone: the validator now keeps two generation bits in the mask
    // (MarkMaskReviewTests, Configuration/MetadataOptionsTests), and a duplicate no longer frees the
    // slot early (the test above).
}
