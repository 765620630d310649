using Microsoft.Extensions.Hosting;
using SfcProxy.Composition;
using SfcProxy.Control;
using SfcProxy.Dsr;
using SfcProxy.Policy;
using SfcProxy.Proxy;
using SfcProxy.Tests.Configuration;
using SfcProxy.Tests.Control;

namespace SfcProxy.Tests.Composition;

/// <summary>Which modules a config file turns on: any one of the three alone is a valid instance,
/// none is an error that says so, and the host registers only the modules the file configures.</summary>
[TestClass]
public sealed class ModuleSelectionTests
{
    private const string DsrOnly = """
        { "Dsr": { "Interface": "lo", "Source": "192.0.2.1",
                   "Services": [ { "Vip": "203.0.113.1", "Port": 80, "Backends": [ { "Address": "10.0.0.1" } ] } ] } }
        """;

    [TestMethod]
    public void ConfigWithNoModuleIsAnErrorThatNamesTheModules()
    {
        var failures = OptionsFixture.Failures("""{ "Instance": "edge-1", "KeyMode": "metadata" }""");

        Assert.AreEqual("SfcProxy: no module is configured; set at least one of Interfaces (the SFC proxy), " +
                        "Policy:Files (the identity policy), Dsr:Services or Dsr:Decap (the DSR load balancer, its backend side)",
            failures.Single());
    }

    [TestMethod]
    public void DsrOnlyConfigValidatesWithoutProxyInterfaces()
    {
        Assert.IsEmpty(OptionsFixture.Failures(DsrOnly));
        Assert.IsEmpty(OptionsFixture.Failures("""{ "Dsr": { "Decap": { "Interface": "lo", "Vips": ["203.0.113.1"] } } }"""));
    }

    [TestMethod]
    public void AProxyFieldOutOfRangeIsNamedEvenWithoutProxyInterfaces()
    {
        var failures = OptionsFixture.Failures(DsrOnly.Replace("{ \"Dsr\"", "{ \"Cache\": { \"Size\": 0 }, \"Dsr\"", StringComparison.Ordinal));

        Assert.AreEqual("SfcProxy:Cache:Size: 0 is out of range 1..16777216", failures.Single());
    }

    [TestMethod]
    public void PolicyOnlyConfigValidatesWithoutProxyInterfaces()
    {
        string policy = Path.GetTempFileName() + ".yaml";
        File.WriteAllText(policy, "endpoints: []\nrules: []\n");
        try
        {
            Assert.IsEmpty(OptionsFixture.Failures($$"""{ "Policy": { "Files": ["{{policy}}"], "Interfaces": ["lo"] } }"""));
        }
        finally
        {
            File.Delete(policy);
        }
    }

    [TestMethod]
    public void DsrTakingTheProxysXdpInterfaceIsStillRefused()
    {
        var failures = OptionsFixture.Failures(OptionsFixture.With("""
            "Dsr": { "Interface": "eth0", "Source": "192.0.2.1",
                     "Services": [ { "Vip": "203.0.113.1", "Port": 80, "Backends": [ { "Address": "10.0.0.1" } ] } ] }
            """));

        Assert.AreEqual("SfcProxy:Dsr:Interface: must differ from Interfaces:Ingress ('eth0'): an interface holds one XDP program, and xdp_rx is attached there",
            failures.Single());
    }

    [TestMethod]
    public void DsrOnlyHostRegistersNoProxyService()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sfcproxy-dsr-only-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, $$"""{ "SfcProxy": {{DsrOnly}} }""");
        try
        {
            int made = 0;
            var services = DaemonHost.CreateBuilder(path, _ => { made++; return new FakeDatapath(); }).Services;
            var hosted = services.Where(d => d.ServiceType == typeof(IHostedService)).Select(d => d.ImplementationType).ToList();

            CollectionAssert.Contains(hosted, typeof(DsrLoadBalancerService));
            CollectionAssert.Contains(hosted, typeof(ControlServer));
            CollectionAssert.DoesNotContain(hosted, typeof(ProxyService));
            CollectionAssert.DoesNotContain(hosted, typeof(CacheAgingService));
            CollectionAssert.DoesNotContain(hosted, typeof(PolicyService));
            Assert.AreEqual(0, made, "the SFC proxy's datapath is never made");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
