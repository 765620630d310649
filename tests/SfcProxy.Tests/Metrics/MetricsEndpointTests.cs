using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Metrics;
using SfcProxy.Proxy;
using SfcProxy.Tests.Control;

namespace SfcProxy.Tests.Metrics;

/// <summary>
/// The Prometheus endpoint on loopback with the stand-in datapath: it serves the registry the
/// <c>metrics</c> request answers from, only at /metrics, and a port it cannot bind fails its start
/// naming the field. The real daemon's endpoint: <see cref="MetricsScrapeEndToEndTests"/>.
/// </summary>
[TestClass]
public sealed class MetricsEndpointTests
{
    private static (MetricsEndpoint Endpoint, InstanceMetrics Metrics, FakeDatapath Datapath) Endpoint(string listen)
    {
        var options = Options.Create(new SfcProxyOptions { Instance = "ep", Metrics = { Listen = listen } });
        var datapath = new FakeDatapath();
        var metrics = new InstanceMetrics(options, [new ProxyMetrics(datapath)]);
        return (new MetricsEndpoint(options, metrics, NullLogger<MetricsEndpoint>.Instance), metrics, datapath);
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    [TestMethod]
    public async Task ServesTheSameExpositionAsTheMetricsRequestAtMetricsOnly()
    {
        int port = FreeLoopbackPort();
        var (endpoint, metrics, datapath) = Endpoint($"127.0.0.1:{port}");
        await endpoint.StartAsync(CancellationToken.None);
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            datapath.Counters[SfcProxy.Proxy.Datapath.Counter.RxPopped] = 4242;

            using var response = await http.GetAsync($"http://127.0.0.1:{port}/metrics");
            string scraped = await response.Content.ReadAsStringAsync();
            using var elsewhere = await http.GetAsync($"http://127.0.0.1:{port}/other");

            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
            StringAssert.StartsWith(response.Content.Headers.ContentType!.ToString(), "text/plain; version=0.0.4");
            var http1 = PrometheusExposition.Parse(scraped);
            var request = PrometheusExposition.Parse(await metrics.ExportAsync(CancellationToken.None));
            CollectionAssert.AreEquivalent(request.Keys.ToList(), http1.Keys.ToList(), "the same families");
            Assert.AreEqual(4242, http1["sfcproxy_rx_popped_total"].Samples.Single().Value, "read from the datapath when scraped");
            Assert.AreEqual(HttpStatusCode.NotFound, elsewhere.StatusCode);
        }
        finally
        {
            await endpoint.StopAsync(CancellationToken.None);
        }
    }

    [TestMethod]
    public async Task APortInUseFailsTheStartNamingTheField()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (endpoint, _, _) = Endpoint($"127.0.0.1:{port}");

        var e = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => endpoint.StartAsync(CancellationToken.None));

        StringAssert.StartsWith(e.Message, $"SfcProxy:Metrics:Listen: cannot listen on 127.0.0.1:{port}: ");
        StringAssert.Contains(e.Message, "address already in use");
    }
}
