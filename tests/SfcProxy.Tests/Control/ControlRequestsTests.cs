using System.Text.Json;
using Microsoft.Extensions.Logging;

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
        Assert.Contains("# HELP sfcproxy_rx_popped_total ", text);
        Assert.Contains("# TYPE sfcproxy_rx_popped_total counter\n", text);
        Assert.Contains("sfcproxy_rx_popped_total{instance=\"test\"} 123\n", text);
        Assert.Contains("# TYPE sfcproxy_cache_entries gauge\nsfcproxy_cache_entries{instance=\"test\"} 3\n", text);
        Assert.Contains("sfcproxy_cache_capacity{instance=\"test\"} 65536\n", text);
        foreach (string line in text.TrimEnd('\n').Split('\n'))
            Assert.IsTrue(line.StartsWith('#') || System.Text.RegularExpressions.Regex.IsMatch(line, @"^[a-z_]+\{instance=""test""\} [0-9.]+$"), line);
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
