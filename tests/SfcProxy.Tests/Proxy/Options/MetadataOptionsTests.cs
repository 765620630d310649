using SfcProxy.Configuration;
using SfcProxy.Proxy.Options;
using SfcProxy.Tests.Configuration;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Options;

/// <summary>Metadata:MarkMask (issue 11, item 6): the operator picks the mark bits, the validator names
/// every way they cannot work, and the metadata cache fits them.</summary>
[TestClass]
public sealed class MetadataOptionsTests
{
    [TestMethod]
    public void DefaultMaskAndMetadataCacheSize()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With("\"KeyMode\": \"metadata\""));
        Assert.HasCount(0, OptionsFixture.Failures(options));
        Assert.AreEqual(SfcLimits.DefaultMarkMask, options.Metadata.MarkMask);
        Assert.AreEqual(0u, options.Metadata.MarkMask & 0x0000_FFFFu, "clear of kube-proxy's 0x4000/0x8000 and Cilium's 0x0f00");
        Assert.AreEqual(CacheOptions.DefaultMetadataSize, options.Cache.Size, "metadata's own default");
        var bits = MetadataSlots.IndexBits((uint)options.Cache.Size);
        Assert.IsLessThan(16u, bits, "the default leaves generation bits in the default mask");
    }

    [TestMethod]
    [DataRow("\"0x00ff0000\"", 0x00FF_0000u)]
    [DataRow("\"0X0000FF00\"", 0x0000_FF00u)]
    [DataRow("\"16711680\"", 0x00FF_0000u)]
    [DataRow("16711680", 0x00FF_0000u)]
    public void MaskAsHexOrNumber(string json, uint expected)
    {
        var options = OptionsFixture.Bind(OptionsFixture.With($"\"KeyMode\": \"metadata\", \"Cache\": {{ \"Size\": 50 }}, \"Metadata\": {{ \"MarkMask\": {json} }}"));
        Assert.HasCount(0, OptionsFixture.Failures(options), string.Join("\n", OptionsFixture.Failures(options)));
        Assert.AreEqual(expected, options.Metadata.MarkMask);
    }

    [TestMethod]
    [DataRow("\"0x00ff00ff\"", "SfcProxy:Metadata:MarkMask: 0x00ff00ff must be one run of set bits")]
    [DataRow("\"0\"", "SfcProxy:Metadata:MarkMask: 0x00000000 must be one run of set bits")]
    [DataRow("\"ffff0000\"", "SfcProxy:Metadata:MarkMask: 'ffff0000' is not a 32-bit mask")]
    [DataRow("\"0x1ffff0000\"", "SfcProxy:Metadata:MarkMask: '0x1ffff0000' is not a 32-bit mask")]
    public void BadMasksAreNamed(string json, string failure)
    {
        var failures = OptionsFixture.Failures(OptionsFixture.With($"\"Metadata\": {{ \"MarkMask\": {json} }}"));
        Assert.IsTrue(failures.Any(f => f.StartsWith(failure, StringComparison.Ordinal)), string.Join("\n", failures));
    }

    [TestMethod]
    public void ACacheTheMaskCannotNameIsRefusedByName()
    {
        var failures = OptionsFixture.Failures(OptionsFixture.With(
            "\"KeyMode\": \"metadata\", \"Cache\": { \"Size\": 16384 }, \"Metadata\": { \"MarkMask\": \"0xffff0000\" }"));
        Assert.IsTrue(failures.Any(f => f.StartsWith("SfcProxy:Cache:Size: 16384 (16384 slots, one ring per CPU) needs more mark bits than Metadata:MarkMask 0xffff0000", StringComparison.Ordinal)),
            string.Join("\n", failures));
        Assert.HasCount(0, OptionsFixture.Failures(OptionsFixture.With(
            "\"KeyMode\": \"header-hash\", \"Cache\": { \"Size\": 65536 }")), "header-hash mode keys no mark");
    }

    [TestMethod]
    public void ANarrowMaskShrinksTheMetadataDefault()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With("\"KeyMode\": \"metadata\", \"Metadata\": { \"MarkMask\": \"0x00ff0000\" }"));
        Assert.HasCount(0, OptionsFixture.Failures(options));
        Assert.AreEqual(63, options.Cache.Size, "8 bits name at most 63 slots and keep 2 for the generation");
    }

    [TestMethod]
    public void TheConfigCarriesMaskAndShift()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With("\"KeyMode\": \"metadata\", \"Metadata\": { \"MarkMask\": \"0x0ff00000\" }"));
        var config = BpfProxyDatapath.BuildConfig(options, new byte[6]);
        Assert.AreEqual(0x0FF0_0000u, config.MetaMarkMask);
        Assert.AreEqual(20u, config.MetaMarkShift);
    }

    [TestMethod]
    [DataRow("\"Cache\": { \"MaxAge\": \"5s\" }", 1u, DisplayName = "the default 5 s: coarse")]
    [DataRow("\"Cache\": { \"MaxAge\": \"1s\" }", 1u, DisplayName = "1 s: coarse")]
    [DataRow("\"Cache\": { \"MaxAge\": \"999ms\" }", 0u, DisplayName = "below 1 s: precise")]
    [DataRow("\"Cache\": { \"MaxAge\": \"5ms\" }", 0u, DisplayName = "a tick would be a large part of it: precise")]
    public void PopTimesComeFromTheCoarseClockOnlyWhenATickIsAtMostOnePercentOfMaxAge(string cache, uint coarse)
    {
        var options = OptionsFixture.Bind(OptionsFixture.With($"\"KeyMode\": \"metadata\", {cache}"));
        Assert.HasCount(0, OptionsFixture.Failures(options));
        Assert.AreEqual(coarse, BpfProxyDatapath.BuildConfig(options, new byte[6]).CoarseClock);
    }
}
