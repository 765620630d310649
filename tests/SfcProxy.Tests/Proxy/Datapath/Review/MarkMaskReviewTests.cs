using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Tests.Configuration;

namespace SfcProxy.Tests.Proxy.Datapath.Review;

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
    /// its slot stays claimed until MaxAge. The review found the config accepted; the validator now
    /// counts the slots the array really has (one ring per CPU) and keeps two generation bits.
    /// </summary>
    [TestMethod]
    public void CacheSmallerThanTheCpuCount_AMaskTooNarrowForTheRoundedCacheIsRefused()
    {
        Assert.IsGreaterThanOrEqualTo(2u, MetadataSlots.Rings, "needs two CPUs");
        var failures = OptionsFixture.Failures(OptionsFixture.With(
            "\"KeyMode\": \"metadata\", \"Cache\": { \"Size\": 1 }, \"Metadata\": { \"MarkMask\": \"0x00010000\" }"));
        Assert.IsTrue(failures.Any(f => f.StartsWith("SfcProxy:Cache:Size: 1 (2 slots, one ring per CPU) needs more mark bits", StringComparison.Ordinal)),
            string.Join("; ", failures));
        // the narrowest mask that holds two slots and two generation bits: 4 bits
        Assert.HasCount(0, OptionsFixture.Failures(OptionsFixture.With(
            "\"KeyMode\": \"metadata\", \"Cache\": { \"Size\": 1 }, \"Metadata\": { \"MarkMask\": \"0x000f0000\" }")));
    }
}
