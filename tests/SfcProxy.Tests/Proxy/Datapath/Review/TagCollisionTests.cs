using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath.Review;

/// <summary>
/// The header-hash cache is keyed by the flow key's 64-bit tag (issue 15: 8 bytes hashed per map
/// operation instead of 72); the entry holds the whole key and every lookup compares it. Two
/// packets whose tags are equal but whose keys differ (1 pair in 2^64, so made here by rewriting an
/// entry's key from user space) must never share an entry: the second is refused at xdp_rx
/// (rx_key_conflict) and a packet leaving the VNF finds no headers of its own (a miss, counted
/// foreign_entry), never the other key's.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class TagCollisionTests
{
    private static readonly LabelStackEntry[] Stack = [new(31001, 0, false, 40), new(31002, 0, true, 41)];

    private static byte[] Inner() => Packet.Eth().IPv4(id: 0x1234, fragOff: 0x4000).Udp(41000, 443).Payload(48, seed: 9).Build()[14..];

    /// <summary>Pops a packet and makes its entry another key's under the same tag.</summary>
    private static (RxRun Popped, ulong Tag) PopAndCollide(ProxyUnderTest proxy, byte[] ip)
    {
        var popped = proxy.Rx(ReviewFixtures.Sfc(ip, Stack));
        Assert.AreEqual(ProxyTestRuns.XdpPass, popped.Verdict);
        var tag = proxy.Cache.Keys<ulong>().Single();
        Assert.IsTrue(proxy.Cache.TryLookup(tag, out SfcCacheEntry e));
        Assert.AreEqual(tag, e.Fingerprint, "the entry carries its map key as its tag");
        e.Key.IpIdent ^= 0x0100; // another packet's key (its IP id differs), the same tag
        proxy.Cache.Update(tag, e);
        return (popped, tag);
    }

    [TestMethod]
    public void ASecondKeyWithTheSameTagIsRefusedNotJoined()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var ip = Inner();
        var (_, tag) = PopAndCollide(proxy, ip);

        var again = proxy.Rx(ReviewFixtures.Sfc(ip, Stack));
        Assert.AreEqual(ProxyTestRuns.XdpDrop, again.Verdict, ReviewFixtures.Moved(proxy));
        Assert.AreEqual(1ul, proxy.Moved().GetValueOrDefault(Counter.RxKeyConflict), ReviewFixtures.Moved(proxy));
        Assert.AreEqual(0ul, proxy.Moved().GetValueOrDefault(Counter.RxDuplicateKey), "never joined another key's entry");
        Assert.IsTrue(proxy.Cache.TryLookup(tag, out SfcCacheEntry e));
        Assert.AreEqual(1u, e.Refs, "the other key's entry is untouched");
    }

    [TestMethod]
    public void APacketWhoseTagLeadsToAnotherKeysEntryMisses()
    {
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash, miss: MissPolicy.Drop);
        var ip = Inner();
        var (popped, tag) = PopAndCollide(proxy, ip);

        var tx = proxy.Tx(KernelVnf.Forward(popped.Frame));
        Assert.AreEqual(ProxyTestRuns.TcShot, tx.Verdict, "a miss under miss policy drop, never the other key's headers");
        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.TxMissDrop), ReviewFixtures.Moved(proxy));
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.ForeignEntry), ReviewFixtures.Moved(proxy));
        Assert.IsTrue(proxy.Cache.TryLookup(tag, out SfcCacheEntry e));
        Assert.AreEqual(1u, e.Refs, "the other key's entry keeps its reference");
    }
}
