using System.Text.Json;
using Microsoft.Extensions.Logging;
using SfcProxy.Tests.Metrics;

namespace SfcProxy.Tests.Control;

/// <summary>cache-dump, metrics, flush and log-level over the socket, asked as root (the test runs as root).</summary>
[TestClass]
public sealed class ControlRequestsTests
{
    private static async Task<JsonDocument> AskAsync(ControlServerFixture fixture, string line) =>
        JsonDocument.Parse(await fixture.AskAsync(line));

    [TestMethod]
    public async Task CacheDumpListsEntriesWithTheirHeaders()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = await AskAsync(fixture, """{"request":"cache-dump"}""");

        var root = answer.RootElement;
        Assert.IsTrue(root.GetProperty("ok").GetBoolean());
        Assert.AreEqual(2, root.GetProperty("count").GetInt32());
        var mpls = root.GetProperty("entries")[0];
        Assert.AreEqual("7", mpls.GetProperty("key").GetString());
        Assert.AreEqual("mpls", mpls.GetProperty("encap").GetString());
        Assert.AreEqual(12, mpls.GetProperty("ageMs").GetInt64());
        Assert.AreEqual("16002/0/64/S", mpls.GetProperty("labels")[1].GetString());
        var nsh = root.GetProperty("entries")[1].GetProperty("nsh");
        Assert.AreEqual(100, nsh.GetProperty("spi").GetInt32());
        Assert.AreEqual(254, nsh.GetProperty("si").GetInt32());
        Assert.AreEqual("0fc60101000064fe", nsh.GetProperty("hex").GetString());
    }

    [TestMethod]
    public async Task CacheDumpHonoursTheLimit()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = await AskAsync(fixture, """{"request":"cache-dump","limit":1}""");

        Assert.AreEqual(1, answer.RootElement.GetProperty("entries").GetArrayLength());
    }

    [TestMethod]
    [DataRow("""{"request":"cache-dump","limit":0}""")]
    [DataRow("""{"request":"cache-dump","limit":10001}""")]
    [DataRow("""{"request":"cache-dump","limit":"all"}""")]
    public async Task CacheDumpRejectsABadLimit(string line)
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = await AskAsync(fixture, line);

        Assert.Contains("\"limit\" must be a whole number 1..10000", answer.RootElement.GetProperty("error").GetString()!);
    }

    [TestMethod]
    public async Task HistogramsAnswerPerEncapsulationAndChain()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = await AskAsync(fixture, """{"request":"histograms"}""");

        var latency = answer.RootElement.GetProperty("latency");
        Assert.AreEqual(1024, latency.GetProperty("chainCapacity").GetInt32());
        Assert.AreEqual(64, latency.GetProperty("sampleEvery").GetInt32());
        var chain = latency.GetProperty("chains")[0];
        Assert.AreEqual("mpls", chain.GetProperty("encap").GetString());
        Assert.AreEqual(16000u, chain.GetProperty("chain").GetUInt32());
        Assert.AreEqual(4ul, chain.GetProperty("count").GetUInt64());
        // One packet in [1024, 2048) ns, three in [4096, 8192): the median is in the upper bucket.
        Assert.AreEqual(8192ul, chain.GetProperty("p50Ns").GetUInt64());
        Assert.AreEqual(3ul, chain.GetProperty("buckets")[12].GetUInt64());
        var mpls = latency.GetProperty("encapsulations")[0];
        Assert.AreEqual(4ul, mpls.GetProperty("count").GetUInt64());
    }

    [TestMethod]
    public async Task MetricsAreInThePrometheusTextFormat()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = await AskAsync(fixture, """{"request":"metrics"}""");

        string text = answer.RootElement.GetProperty("metrics").GetString()!;
        var families = PrometheusExposition.Parse(text);
        Assert.AreEqual("counter", families["sfcproxy_rx_popped_total"].Type);
        StringAssert.StartsWith(families["sfcproxy_rx_popped_total"].Help, "Datapath counter rx_popped");
        Assert.AreEqual("sfcproxy_rx_popped_total{instance=\"test\"} 123", families["sfcproxy_rx_popped_total"].Samples.Single().Canonical);
        Assert.AreEqual("gauge", families["sfcproxy_cache_entries"].Type);
        Assert.AreEqual(3, families["sfcproxy_cache_entries"].Samples.Single().Value);
        Assert.AreEqual(65536, families["sfcproxy_cache_capacity"].Samples.Single().Value);
        foreach (var sample in families.Values.SelectMany(f => f.Samples))
            Assert.AreEqual("test", sample.Labels["instance"], sample.Canonical);
    }

    [TestMethod]
    public async Task TheVnfDwellHistogramHasTheDatapathsBucketsPerChain()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = await AskAsync(fixture, """{"request":"metrics"}""");

        // FakeDatapath's chain: MPLS label 16000, one packet in [1024, 2048) ns, three in [4096, 8192), sampled 1 in 64.
        var dwell = PrometheusExposition.Parse(answer.RootElement.GetProperty("metrics").GetString()!)["sfcproxy_vnf_dwell_seconds"];
        Assert.AreEqual("histogram", dwell.Type);
        double Bucket(string le) => dwell.Samples.Single(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal) && s.Labels["le"] == le
            && s.Labels["encap"] == "mpls" && s.Labels["chain"] == "16000").Value;
        Assert.AreEqual(0, Bucket("1.024e-06"), "nothing under 1024 ns");
        Assert.AreEqual(1, Bucket("2.048e-06"), "le is the datapath bucket's upper bound");
        Assert.AreEqual(1, Bucket("4.096e-06"));
        Assert.AreEqual(4, Bucket("8.192e-06"));
        Assert.AreEqual(4, Bucket("+Inf"));
        // The sum puts each packet at its bucket's midpoint: 1536 ns + 3 * 6144 ns.
        Assert.AreEqual((1536 + 3 * 6144) / 1e9, dwell.Samples.Single(s => s.Name == "sfcproxy_vnf_dwell_seconds_sum").Value, 1e-15);
        Assert.AreEqual(64, PrometheusExposition.Parse(answer.RootElement.GetProperty("metrics").GetString()!)["sfcproxy_vnf_dwell_sample_every"].Samples.Single().Value);
    }

    [TestMethod]
    public async Task ScrapesFollowTheKernelCountersAndTheirResets()
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        double RxPopped(string text) => PrometheusExposition.Parse(text)["sfcproxy_rx_popped_total"].Samples.Single().Value;

        double first = RxPopped(await fixture.Metrics.ExportAsync(CancellationToken.None));
        fixture.Datapath.Counters[SfcProxy.Proxy.Datapath.Counter.RxPopped] = 500;
        double grown = RxPopped(await fixture.Metrics.ExportAsync(CancellationToken.None));
        fixture.Datapath.Counters[SfcProxy.Proxy.Datapath.Counter.RxPopped] = 20;
        double reset = RxPopped(await fixture.Metrics.ExportAsync(CancellationToken.None));

        Assert.AreEqual(123, first);
        Assert.AreEqual(500, grown, "read again at each scrape");
        Assert.AreEqual(20, reset, "a kernel counter that started again is followed down (a reset to Prometheus), not held at 500");
    }

    [TestMethod]
    public async Task FlushAsRootEmptiesTheCacheAndSaysHowMany()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        string first = await fixture.AskAsync("""{"request":"flush"}""");
        string second = await fixture.AskAsync("""{"request":"flush"}""");

        Assert.AreEqual("""{"ok":true,"flushed":2}""", first);
        Assert.AreEqual("""{"ok":true,"flushed":0}""", second);
        Assert.AreEqual(2, fixture.Datapath.Flushes);
    }

    [TestMethod]
    public async Task LogLevelAsRootTurnsTheSwitch()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        string answer = await fixture.AskAsync("""{"request":"log-level","level":"debug"}""");

        Assert.AreEqual("""{"ok":true,"previous":"Information","level":"Debug"}""", answer);
        Assert.AreEqual(LogLevel.Debug, fixture.LogLevel.Minimum);
        Assert.IsTrue(fixture.LogLevel.IsEnabled(LogLevel.Debug));
        Assert.IsFalse(fixture.LogLevel.IsEnabled(LogLevel.Trace));
    }

    [TestMethod]
    [DataRow("""{"request":"log-level"}""")]
    [DataRow("""{"request":"log-level","level":"Verbose"}""")]
    public async Task LogLevelRejectsAnUnknownLevel(string line)
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = await AskAsync(fixture, line);

        Assert.AreEqual("\"level\" must be one of Debug, Information, Warning, Error", answer.RootElement.GetProperty("error").GetString());
        Assert.AreEqual(LogLevel.Information, fixture.LogLevel.Minimum);
    }

    [TestMethod]
    public async Task StatusIncludesTheLogLevel()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = await AskAsync(fixture, """{"request":"status"}""");

        Assert.AreEqual("Information", answer.RootElement.GetProperty("status").GetProperty("logLevel").GetString());
    }
}
