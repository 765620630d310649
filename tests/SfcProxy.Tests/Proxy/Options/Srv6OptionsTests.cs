using System.Net;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy.Options;
using SfcProxy.Tests.Configuration;

namespace SfcProxy.Tests.Proxy.Options;

/// <summary>Srv6:Sids and Srv6:Static: bound, checked field by field (each failure names the field and why), and
/// encoded into the datapath's config as the datapath reads it.</summary>
[TestClass]
public sealed class Srv6OptionsTests
{
    private const string Good = """
        "Encapsulations": ["mpls", "srv6"],
        "Srv6": { "Sids": [ { "Sid": "2001:db8:ff::100", "Inner": ["ipv4", "ethernet"] }, { "Sid": "2001:db8:ff::200", "Inner": ["ipv6"] } ] }
        """;

    [TestMethod]
    public void AValidSectionBindsAndEncodes()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With(Good));
        Assert.HasCount(0, OptionsFixture.Failures(options));
        var config = Srv6Config.Encode(options.Srv6, new SfcConfig());
        Assert.AreEqual(2u, config.Srv6SidCount);
        unsafe
        {
            CollectionAssert.AreEqual(IPAddress.Parse("2001:db8:ff::200").GetAddressBytes(), new ReadOnlySpan<byte>((byte*)config.Srv6SidAddr + 16, 16).ToArray());
            Assert.AreEqual((uint)(Srv6Inner.IPv4 | Srv6Inner.Ethernet), config.Srv6SidInner[0]);
            Assert.AreEqual((uint)Srv6Inner.IPv6, config.Srv6SidInner[1]);
        }
        Assert.AreEqual(0u, config.StaticSrv6Len);
    }

    [TestMethod]
    [DataRow("\"Encapsulations\": [\"srv6\"]", "SfcProxy:Srv6:Sids: required (at least one proxy SID) when Encapsulations lists \"srv6\"")]
    [DataRow("\"Srv6\": { \"Sids\": [ { \"Sid\": \"2001:db8::1\", \"Inner\": [\"ipv4\"] } ] }", "SfcProxy:Srv6:Sids: given, but Encapsulations does not list \"srv6\"")]
    [DataRow("\"Encapsulations\": [\"srv6\"], \"Srv6\": { \"Sids\": [ { \"Sid\": \"198.18.0.1\", \"Inner\": [\"ipv4\"] } ] }", "SfcProxy:Srv6:Sids:0:Sid: '198.18.0.1' is not an IPv6 address")]
    [DataRow("\"Encapsulations\": [\"srv6\"], \"Srv6\": { \"Sids\": [ { \"Sid\": \"ff02::1\", \"Inner\": [\"ipv4\"] } ] }", "SfcProxy:Srv6:Sids:0:Sid: ff02::1 is not a unicast address")]
    [DataRow("\"Encapsulations\": [\"srv6\"], \"Srv6\": { \"Sids\": [ { \"Inner\": [\"ipv4\"] } ] }", "SfcProxy:Srv6:Sids:0:Sid: required")]
    [DataRow("\"Encapsulations\": [\"srv6\"], \"Srv6\": { \"Sids\": [ { \"Sid\": \"2001:db8::1\" } ] }", "SfcProxy:Srv6:Sids:0:Inner: name at least one of 'ipv4', 'ipv6', 'ethernet'")]
    [DataRow("\"Encapsulations\": [\"srv6\"], \"Srv6\": { \"Sids\": [ { \"Sid\": \"2001:db8::1\", \"Inner\": [\"mpls\"] } ] }", "SfcProxy:Srv6:Sids:0:Inner:0: \"mpls\" is not one of 'ipv4', 'ipv6', 'ethernet'")]
    [DataRow("\"Encapsulations\": [\"srv6\"], \"Srv6\": { \"Sids\": [ { \"Sid\": \"2001:db8::1\", \"Inner\": [\"ipv4\"] }, { \"Sid\": \"2001:db8:0::1\", \"Inner\": [\"ipv6\"] } ] }", "SfcProxy:Srv6:Sids:1:Sid: 2001:db8::1 is listed twice")]
    [DataRow("\"Encapsulations\": [\"srv6\"], \"Srv6\": { \"Sids\": [ { \"Sid\": \"2001:db8::1\", \"Inner\": [\"ipv4\"], \"Color\": 1 } ] }", "SfcProxy:Srv6:Sids:0:Color: unknown field")]
    [DataRow("\"Srv6\": { \"Static\": { \"Segments\": [\"2001:db8::1\"] } }", "SfcProxy:Srv6:Static:Source: required")]
    [DataRow("\"Srv6\": { \"Static\": { \"Source\": \"2001:db8::9\", \"Segments\": [] } }", "SfcProxy:Srv6:Static:Segments: 0 segments, 1..16 are supported")]
    [DataRow("\"Srv6\": { \"Static\": { \"Source\": \"2001:db8::9\", \"Segments\": [\"nope\"] } }", "SfcProxy:Srv6:Static:Segments:0: 'nope' is not an IPv6 address")]
    [DataRow("\"Srv6\": { \"Static\": { \"Source\": \"2001:db8::9\", \"Segments\": [\"2001:db8::1\"], \"HopLimit\": 0 } }", "SfcProxy:Srv6:Static:HopLimit: 0 is out of range 1..255")]
    [DataRow("\"MissPolicy\": \"static\", \"StaticStack\": [ { \"Label\": 16 } ], \"Srv6\": { \"Static\": { \"Source\": \"2001:db8::9\", \"Segments\": [\"2001:db8::1\"] } }", "SfcProxy:Srv6:Static: StaticStack is given too")]
    public void EachBadFieldIsNamedWithItsReason(string fields, string expected)
    {
        var failures = OptionsFixture.Failures(OptionsFixture.With(fields));
        Assert.IsTrue(failures.Any(f => f.StartsWith(expected, StringComparison.Ordinal)), $"expected \"{expected}\"; got:\n{string.Join("\n", failures)}");
    }

    [TestMethod]
    public void StaticMissWithAnSrhAloneIsValid()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With("""
            "MissPolicy": "static", "Srv6": { "Static": { "Source": "2001:db8::9", "Segments": ["2001:db8::1", "2001:db8::2"], "HopLimit": 10 } }
            """));
        Assert.HasCount(0, OptionsFixture.Failures(options));
        var config = Srv6Config.Encode(options.Srv6, new SfcConfig());
        Assert.AreEqual(40u + 8 + 32, config.StaticSrv6Len);
    }
}
