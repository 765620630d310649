using SfcProxy.Configuration;
using SfcProxy.Datapath;
using SfcProxy.Lab;
using SfcProxy.Proxy;
using SfcProxy.Tests.Configuration;

namespace SfcProxy.Tests.Datapath.Review;

/// <summary>
/// Metadata:MarkMask against Cache:Size. README: "Cache:Size slots need log2(Cache:Size) + 1 bits; the
/// validator says so by name", and the metadata cache has "Cache:Size / CPUs slots per possible CPU
/// (rounded down to a multiple of the CPU count, at least one per CPU)". The validator checks
/// Cache:Size against the mask (Size &lt;= 2^bits - 1) but the datapath sizes the array up to one slot
/// per ring: with fewer Cache:Size than CPUs the slots' index + 1 no longer fits the mask.
/// </summary>
[TestClass]
[DoNotParallelize] // pins threads to CPUs
public sealed class MarkMaskReviewTests
{
    private static readonly LabelStackEntry[] Stack = [new(25001, 1, false, 40), new(25002, 0, true, 41)];

    /// <summary>
    /// Config: KeyMode metadata, Metadata:MarkMask 0x00010000 (1 bit: names 1 slot), Cache:Size 1 —
    /// accepted by the validator. On 2 CPUs the array gets 2 slots (index bits 2); a packet popped on
    /// CPU 1 claims slot 1, whose key (index + 1 = 2) has no bit inside the 1-bit mask: its mark carries
    /// key 0, tc_tx sees no key, and the packet misses (tx_miss_drop), every packet of that CPU, while
    /// its slot stays claimed until MaxAge. Expected: the config is refused by name, or the packet is
    /// restored. Actual: accepted, and the packet from CPU 1 misses.
    /// </summary>
    [TestMethod]
    public void CacheSmallerThanTheCpuCount_MaskAcceptedButPacketsOfTheSecondCpuCarryNoKey()
    {
        Assert.IsGreaterThanOrEqualTo(2u, MetadataSlots.Rings, "needs two CPUs");
        var failures = OptionsFixture.Failures(OptionsFixture.With(
            "\"KeyMode\": \"metadata\", \"Cache\": { \"Size\": 1 }, \"Metadata\": { \"MarkMask\": \"0x00010000\" }"));
        Assert.AreEqual(0, failures.Count, string.Join("; ", failures)); // the validator accepts it: the datapath must then work

        using var proxy = new ProxyUnderTest(KeyMode.Metadata, miss: MissPolicy.Drop, cacheSize: 1, markMask: 0x0001_0000u);
        var ip = Packet.Eth().IPv4(id: 0x99).Udp(42000, 53).Payload(30, seed: 7).Build()[14..];
        var rx = CpuAffinity.On(1, () => proxy.Rx(ReviewFixtures.Sfc(ip, Stack)));
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict, ReviewFixtures.Moved(proxy));
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
        CollectionAssert.AreEqual(ReviewFixtures.Restored(ReviewFixtures.Hop(ip), Stack), tx.Frame,
            $"key 0x{rx.MetaKey:x8} from CPU 1: {ReviewFixtures.Moved(proxy)}");
    }
}
