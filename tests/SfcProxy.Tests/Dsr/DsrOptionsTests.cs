using System.Net;
using SfcProxy.Dsr;
using SfcProxy.Tests.Configuration;

namespace SfcProxy.Tests.Dsr;

/// <summary>The optional SfcProxy:Dsr section: bound, converted, and validated with errors naming the field.</summary>
[TestClass]
public sealed class DsrOptionsTests
{
    private const string Good = """
        "Dsr": {
          "Interface": "lo", "XdpMode": "generic", "Mtu": 1450, "MssClamp": 0, "SourcePrefix": "198.51.100.0/28",
          "NextHopMac": "02:00:00:00:00:01", "RemoveIdleSeconds": 30,
          "Services": [
            { "Vip": "203.0.113.10", "Port": 80, "Protocol": "tcp",
              "Backends": [ { "Address": "10.0.0.1" }, { "Address": "10.0.0.2", "Weight": 3 } ] },
            { "Vip": "203.0.113.10", "Port": 53, "Protocol": "udp", "Backends": [ { "Address": "10.0.0.1", "Weight": 0 } ] }
          ],
          "Decap": { "Interface": "lo", "Vips": ["203.0.113.10"] }
        }
        """;

    [TestMethod]
    public void AbsentSectionMeansNoDsrModule()
    {
        var options = OptionsFixture.Bind(OptionsFixture.Minimal);

        Assert.IsFalse(options.Dsr.Enabled);
        Assert.IsFalse(options.Dsr.DecapEnabled);
        Assert.IsEmpty(OptionsFixture.Failures(options));
    }

    [TestMethod]
    public void GoodSectionBindsAndConverts()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With(Good));

        Assert.IsEmpty(OptionsFixture.Failures(options));
        Assert.IsTrue(options.Dsr.Enabled);
        Assert.IsTrue(options.Dsr.DecapEnabled);
        Assert.AreEqual("lo", options.Dsr.Decap!.Interface);
        Assert.AreEqual(30, options.Dsr.RemoveIdleSeconds);
        var settings = options.Dsr.ToSettings();
        Assert.AreEqual(1450u, settings.Mtu);
        Assert.AreEqual(0u, settings.MssClamp);
        Assert.AreEqual(IPNetwork.Parse("198.51.100.0/28"), settings.SourcePrefix);
        Assert.IsNull(settings.Source);
        Assert.AreEqual(DsrConfigFlag.StaticNexthop, settings.Flags);
        CollectionAssert.AreEqual(new byte[] { 2, 0, 0, 0, 0, 1 }, settings.NexthopMac);
        var services = options.Dsr.ToServiceConfigs();
        Assert.HasCount(2, services);
        Assert.AreEqual((byte)6, services[0].Protocol);
        Assert.AreEqual(3u, services[0].Backends[1].Weight);
        Assert.AreEqual(1u, services[0].Backends[0].Weight);
        Assert.AreEqual((byte)17, services[1].Protocol);
        Assert.AreEqual(0u, services[1].Backends[0].Weight);
        // The table builder takes the converted services as they are.
        var tables = DsrTableBuilder.Build(services);
        Assert.HasCount(2, tables.Services);
    }

    [TestMethod]
    public void DefaultsAndNoClamp()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With("""
            "Dsr": { "Interface": "lo", "Source": "192.0.2.1", "MssClamp": -1,
                     "Services": [ { "Vip": "203.0.113.1", "Port": 443, "Backends": [ { "Address": "10.0.0.1" } ] } ] }
            """));

        Assert.IsEmpty(OptionsFixture.Failures(options));
        var settings = options.Dsr.ToSettings();
        Assert.AreEqual(1500u, settings.Mtu);
        Assert.AreEqual(120, options.Dsr.RemoveIdleSeconds);
        Assert.AreEqual(DsrConfigFlag.NoMssClamp, settings.Flags);
        Assert.AreEqual(1000u, settings.NexthopMaxAgeMs, "next-hop cache on, 1 s");
        Assert.AreEqual(IPAddress.Parse("192.0.2.1"), settings.Source);
        Assert.AreEqual((byte)6, options.Dsr.ToServiceConfigs()[0].Protocol);
    }

    [TestMethod]
    public void NextHopMaxAgeZeroLooksUpEveryPacket()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With("""
            "Dsr": { "Interface": "lo", "Source": "192.0.2.1", "NextHopMaxAgeMs": 0,
                     "Services": [ { "Vip": "203.0.113.1", "Port": 443, "Backends": [ { "Address": "10.0.0.1" } ] } ] }
            """));

        Assert.IsEmpty(OptionsFixture.Failures(options));
        Assert.AreEqual(DsrConfigFlag.NoNexthopCache, options.Dsr.ToSettings().Flags);
    }

    [TestMethod]
    public void EveryDsrProblemIsReportedByField()
    {
        var failures = OptionsFixture.Failures(OptionsFixture.With("""
            "Dsr": {
              "Interface": "eth9", "Mtu": 100, "MssClamp": 5000, "Source": "2001:db8::1", "SourcePrefix": "10.0.0.0/33",
              "NextHopMac": "zz", "Color": "red", "RemoveIdleSeconds": 0, "NextHopMaxAgeMs": 60001, "HopLimit": 0, "Source6": "10.0.0.9",
              "Services": [
                { "Vip": "2001:db8:::10", "Port": 0, "Protocol": "sctp", "Backends": [] },
                { "Vip": "203.0.113.1", "Port": 80, "Backends": [ { "Address": "10.0.0.1", "Weight": -1 }, { "Address": "10.0.0.1" }, { "Address": "nope" }, { "Weight": 2 } ] },
                { "Vip": "203.0.113.1", "Port": 80, "Protocol": "TCP", "Backends": [ { "Address": "10.0.0.2", "Extra": 1 } ] }
              ],
              "Decap": { "Interface": "", "Vips": ["203.0.113.1", "203.0.113.1", "::ffff:203.0.113.9"] }
            }
            """));
        string all = string.Join("\n", failures);

        foreach (var expected in new[]
        {
            "SfcProxy:Dsr:Color: unknown field",
            "SfcProxy:Dsr:Services:2:Backends:0:Extra: unknown field",
            "SfcProxy:Dsr:Services:1:Backends:3:Address: required",
            "SfcProxy:Dsr:Interface: interface 'eth9' does not exist in this network namespace",
            "SfcProxy:Dsr:Mtu: 100 is out of range 576..65535",
            "SfcProxy:Dsr:MssClamp: 5000 is out of range",
            "SfcProxy:Dsr:SourcePrefix: set either Source or SourcePrefix, not both",
            "SfcProxy:Dsr:Source: '2001:db8::1' is not an IPv4 address",
            "SfcProxy:Dsr:SourcePrefix: '10.0.0.0/33' is not an IPv4 prefix",
            "SfcProxy:Dsr:NextHopMac: 'zz' is not a MAC address",
            "SfcProxy:Dsr:RemoveIdleSeconds: 0 is out of range 1..86400",
            "SfcProxy:Dsr:NextHopMaxAgeMs: 60001 is out of range 0..60000",
            "SfcProxy:Dsr:Services:0:Vip: '2001:db8:::10' is not an IPv4 or IPv6 address",
            "SfcProxy:Dsr:HopLimit: 0 is out of range 1..255",
            "SfcProxy:Dsr:Source6: '10.0.0.9' is not an IPv6 address",
            "SfcProxy:Dsr:Services:0:Port: 0 is out of range 1..65535",
            "SfcProxy:Dsr:Services:0:Protocol: 'sctp' is not one of tcp, udp",
            "SfcProxy:Dsr:Services:0:Backends: name at least one backend",
            "SfcProxy:Dsr:Services:1:Backends:0:Weight: -1 is out of range 0..65535",
            "SfcProxy:Dsr:Services:1:Backends:1:Address: 10.0.0.1 is listed twice",
            "SfcProxy:Dsr:Services:1:Backends:2:Address: 'nope' is not an IPv4 or IPv6 address",
            "SfcProxy:Dsr:Services:2: 203.0.113.1:80/tcp is defined twice",
            "SfcProxy:Dsr:Decap:Interface: required",
            "SfcProxy:Dsr:Decap:Vips:1: 203.0.113.1 is listed twice",
            "SfcProxy:Dsr:Decap:Vips:2: '::ffff:203.0.113.9' is not an IPv4 or IPv6 address",
        })
            Assert.IsTrue(failures.Any(f => f.StartsWith(expected, StringComparison.Ordinal)), $"missing '{expected}' in:\n{all}");
    }

    [TestMethod]
    public void IPv6ServicesAndTheMigrationCaseAreValidWithTheirSources()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With("""
            "Dsr": { "Interface": "lo", "Source": "192.0.2.1", "Source6": "2001:2:ff::1", "HopLimit": 32,
                     "Services": [ { "Vip": "2001:2:60::10", "Port": 443, "Backends": [ { "Address": "2001:2:70::1" } ] },
                                   { "Vip": "203.0.113.1", "Port": 80, "Backends": [ { "Address": "10.0.0.1" }, { "Address": "2001:2:70::2" } ] } ] }
            """));

        Assert.IsEmpty(OptionsFixture.Failures(options));
        var settings = options.Dsr.ToSettings();
        Assert.AreEqual((System.Net.IPAddress.Parse("2001:2:ff::1"), (byte)32), (settings.Source6, settings.HopLimit));
    }

    [TestMethod]
    public void IPv6ServicesNameTheFieldsTheyNeed()
    {
        var failures = OptionsFixture.Failures(OptionsFixture.With("""
            "Dsr": { "Interface": "lo", "Mtu": 1300,
                     "Services": [ { "Vip": "2001:2:60::10", "Port": 443, "Backends": [ { "Address": "2001:2:70::1" }, { "Address": "10.0.0.1" } ] } ] }
            """));
        string all = string.Join("\n", failures);

        foreach (var expected in new[]
        {
            "SfcProxy:Dsr:Mtu: 1300 is below 1320: an IPv6 VIP's packets must get IPv6's minimum MTU of 1280",
            "SfcProxy:Dsr:Source6: required: the outer IPv6 source address of the IPv6 backends",
            "SfcProxy:Dsr:Source: required (or SourcePrefix): the outer IPv4 source address of the IPv4 backends",
            "SfcProxy:Dsr:Services:0:Backends:1:Address: 10.0.0.1 is IPv4, the VIP IPv6: an IPv6 VIP needs IPv6 backends",
        })
            Assert.IsTrue(failures.Any(f => f.StartsWith(expected, StringComparison.Ordinal)), $"missing '{expected}' in:\n{all}");
        Assert.HasCount(4, failures, all);
    }

    [TestMethod]
    public void LoadBalancerFieldsWithoutServicesAreRejected()
    {
        var failures = OptionsFixture.Failures(OptionsFixture.With("""
            "Dsr": { "Interface": "eth0", "Source": "192.0.2.1" }
            """));

        Assert.HasCount(1, failures, string.Join("\n", failures));
        StringAssert.StartsWith(failures[0], "SfcProxy:Dsr:Services: required");
    }

    [TestMethod]
    public void TheLoadBalancerCannotShareTheProxysXdpInterface()
    {
        var failures = OptionsFixture.Failures(OptionsFixture.With("""
            "Interfaces": { "Ingress": "veth-vnf", "Egress": "eth0" },
            "Dsr": { "Interface": "veth-vnf", "Source": "192.0.2.1",
                     "Services": [ { "Vip": "203.0.113.1", "Port": 80, "Backends": [ { "Address": "10.0.0.1" } ] } ] }
            """));

        Assert.HasCount(1, failures, string.Join("\n", failures));
        StringAssert.StartsWith(failures[0], "SfcProxy:Dsr:Interface: must differ from Interfaces:Ingress ('veth-vnf')");
    }

    [TestMethod]
    public void DecapOnlyIsValid()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With("""
            "Dsr": { "Decap": { "Interface": "veth-vnf", "Vips": ["203.0.113.1"] } }
            """));

        Assert.IsEmpty(OptionsFixture.Failures(options));
        Assert.IsFalse(options.Dsr.Enabled);
        Assert.IsTrue(options.Dsr.DecapEnabled);
    }
}
