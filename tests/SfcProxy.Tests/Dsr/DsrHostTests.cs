using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using SfcProxy.Bpf;
using SfcProxy.Composition;
using SfcProxy.Configuration;
using SfcProxy.Dsr;
using SfcProxy.Proxy;
using SfcProxy.Tests.Bpf;
using SfcProxy.Tests.Control;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Dsr;

/// <summary>How the host wires the DSR module: registration from the config, and the backend side's service.</summary>
[TestClass]
public sealed class DsrHostTests
{
    private static string WriteConfig(string dsr)
    {
        string path = Path.Combine(Path.GetTempPath(), $"sfcproxy-dsr-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, $$"""{ "SfcProxy": { "Interfaces": { "Ingress": "lo", "Egress": "lo" }, {{dsr}} } }""");
        return path;
    }

    [TestMethod]
    public void ServicesRegisterTheLoadBalancerAndDecapTheBackendSide()
    {
        string both = WriteConfig("""
            "Dsr": { "Interface": "lo", "Source": "192.0.2.1",
                     "Services": [ { "Vip": "203.0.113.1", "Port": 80, "Backends": [ { "Address": "10.0.0.1" } ] } ],
                     "Decap": { "Interface": "lo", "Vips": ["203.0.113.1"] } }
            """);
        string none = WriteConfig("\"LogLevel\": \"debug\"");
        try
        {
            var withDsr = DaemonHost.CreateBuilder(both, _ => new FakeDatapath()).Services;
            var without = DaemonHost.CreateBuilder(none, _ => new FakeDatapath()).Services;

            Assert.IsTrue(withDsr.Any(d => d.ServiceType == typeof(ActiveDsr)));
            Assert.IsTrue(withDsr.Any(d => d.ServiceType == typeof(IDsrDatapath)));
            Assert.IsTrue(withDsr.Any(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DsrLoadBalancerService)));
            Assert.IsTrue(withDsr.Any(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DsrDecapService)));
            Assert.IsFalse(without.Any(d => d.ServiceType == typeof(ActiveDsr)));
            Assert.IsFalse(without.Any(d => d.ImplementationType == typeof(DsrDecapService)));
            // The load balancer starts before the control server, so its tables are in force when the socket answers.
            var hosted = withDsr.Where(d => d.ServiceType == typeof(IHostedService)).Select(d => d.ImplementationType).ToList();
            Assert.IsLessThan(hosted.IndexOf(typeof(SfcProxy.Control.ControlServer)), hosted.IndexOf(typeof(DsrLoadBalancerService)));
        }
        finally
        {
            File.Delete(both);
            File.Delete(none);
        }
    }

    [TestMethod]
    public void DecapServiceAttachesWithItsVipsAndRemovesItsPinsWhenStopped()
    {
        BpfEnvironmentCheck.Require();
        using var network = TestNetwork.Create();
        var options = Modules.NewOptions();
        options.Instance = $"dh{Guid.NewGuid():N}"[..12];
        options.Dsr.Decap = new DsrDecapOptions { Interface = TestNetwork.Veth1, Vips = ["192.0.2.10", "192.0.2.11"] };
        string pins = Path.Combine(options.PinRoot, options.Instance + "-dsr-decap");

        network.Run(() =>
        {
            var service = new DsrDecapService(Microsoft.Extensions.Options.Options.Create(options), NullLogger<DsrDecapService>.Instance);
            service.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
            try
            {
                CollectionAssert.AreEqual(new[] { IPAddress.Parse("192.0.2.10"), IPAddress.Parse("192.0.2.11") }, service.Objects!.ReadVips().ToList());
                Assert.IsTrue(Directory.Exists(pins), pins);
            }
            finally
            {
                service.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
            Assert.IsNull(service.Objects);
            Assert.IsFalse(Directory.Exists(pins), "pins removed");
        });
    }
}
