using System.Text.Json;
using SfcProxy.Cli;
using SfcProxy.Tests.Control;

namespace SfcProxy.Tests.Cli;

/// <summary>The operator commands against a control server with the fake datapath.</summary>
[TestClass]
public sealed class OperationsCliTests
{
    [TestMethod]
    public async Task CacheLsListsEntriesAndLimitIsSent()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var table = new CliRunner();
        var json = new CliRunner();

        int tableExit = await table.InvokeAsync(["cache", "ls", "-s", server.SocketPath]);
        int jsonExit = await json.InvokeAsync(["cache", "ls", "-s", server.SocketPath, "--limit", "1", "--json"]);

        Assert.AreEqual(ExitCodes.Ok, tableExit, table.Error.ToString());
        Assert.Contains("16001/0/63 16002/0/64/S", table.Output.ToString());
        Assert.Contains("spi 100 si 254 ttl 63 md1 24 B next 1", table.Output.ToString());
        Assert.Contains("2 entries (header-hash keys)", table.Output.ToString());
        Assert.AreEqual(ExitCodes.Ok, jsonExit, json.Error.ToString());
        using var answer = JsonDocument.Parse(json.Output.ToString());
        Assert.AreEqual(1, answer.RootElement.GetProperty("entries").GetArrayLength());
    }

    [TestMethod]
    public async Task LatencyShowsPercentilesAndBuckets()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["latency", "-s", server.SocketPath]);

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        var text = cli.Output.ToString();
        Assert.Contains("16000", text, "the chain (top label)");
        Assert.Contains("4.1-8.2 us", text, "the bucket holding three packets");
        Assert.Contains("1-2 us", text, "the bucket holding one");
        Assert.Contains("a sample, 1 in 64 per CPU", text, "says the counts are a sample");
    }

    [TestMethod]
    public async Task CacheLsRefusesALimitOutOfRange()
    {
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["cache", "ls", "--limit", "0"]);

        Assert.AreNotEqual(ExitCodes.Ok, exit);
        Assert.Contains("--limit must be 1..10000", cli.Error.ToString());
    }

    [TestMethod]
    public async Task CacheWithoutSubcommandStillShowsTheSummary()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["cache", "-s", server.SocketPath]);

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        Assert.Contains("65,536", cli.Output.ToString());
    }

    [TestMethod]
    public async Task CacheFlushSaysHowManyWereDeleted()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["cache", "flush", "-s", server.SocketPath]);

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        Assert.AreEqual("flushed 2 entries", cli.Output.ToString().Trim());
    }

    [TestMethod]
    public async Task MetricsPrintsTheExpositionText()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["metrics", "-s", server.SocketPath]);

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        // Written as is: the text parses as an exposition, no table or wrapping around it.
        var families = SfcProxy.Tests.Metrics.PrometheusExposition.Parse(cli.Output.ToString());
        Assert.AreEqual(123, families["sfcproxy_rx_popped_total"].Samples.Single().Value);
        Assert.Contains("sfcproxy_rx_popped_total{instance=\"test\"} 123\n", cli.Output.ToString());
    }

    [TestMethod]
    public async Task LogLevelChangesTheLevelAndABadOneFails()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var good = new CliRunner();
        var bad = new CliRunner();

        int goodExit = await good.InvokeAsync(["log-level", "Warning", "-s", server.SocketPath]);
        int badExit = await bad.InvokeAsync(["log-level", "loud", "-s", server.SocketPath]);

        Assert.AreEqual(ExitCodes.Ok, goodExit, good.Error.ToString());
        Assert.AreEqual("log level Information -> Warning", good.Output.ToString().Trim());
        Assert.AreEqual(ExitCodes.Failed, badExit);
        Assert.Contains("\"level\" must be one of", bad.Error.ToString());
    }

    [TestMethod]
    public async Task StatusShowsEncapsulationsAndLogLevel()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["status", "-s", server.SocketPath]);

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        Assert.Contains("mpls", cli.Output.ToString());
        Assert.Contains("Information", cli.Output.ToString());
    }

    [TestMethod]
    public async Task StatsWatchJsonPrintsOneAnswerPerIntervalUntilCancelled()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var cli = new CliRunner();
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(450));

        int exit = await cli.InvokeAsync(["stats", "-s", server.SocketPath, "--watch", "--interval", "100ms", "--json"], stop.Token);

        string[] lines = cli.Output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        Assert.IsGreaterThanOrEqualTo(3, lines.Length);
        foreach (string line in lines)
            StringAssert.StartsWith(line, """{"ok":true,"counters":""");
    }

    [TestMethod]
    public async Task StatsWatchIntoAPipePrintsPlainFramesWithRates()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var cli = new CliRunner();
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));

        int exit = await cli.InvokeAsync(["stats", "-s", server.SocketPath, "-w", "--interval", "0.1s"], stop.Token);

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        string text = cli.Output.ToString();
        Assert.DoesNotContain("\u001b", text, "no escape codes when the output is not a terminal");
        // Frames one after the other, a blank line between: title, header, then counter, total, rate.
        string[][] frames = [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('\n', StringSplitOptions.RemoveEmptyEntries))];
        Assert.IsGreaterThanOrEqualTo(2, frames.Length, text);
        CollectionAssert.AreEqual(new[] { "counter", "total", "per", "second" }, Fields(frames[0][1]));
        CollectionAssert.AreEqual(new[] { "rx_popped", "123", "-" }, Fields(frames[0].Single(l => l.StartsWith("rx_popped", StringComparison.Ordinal))));
        CollectionAssert.AreEqual(new[] { "rx_popped", "123", "0.0" }, Fields(frames[1].Single(l => l.StartsWith("rx_popped", StringComparison.Ordinal))));
        Assert.AreEqual(2 + SfcProxy.Proxy.CounterNames.All.Count, frames[0].Length, "no row limit in a pipe: every counter");
        foreach (string line in frames.SelectMany(f => f))
            Assert.IsLessThanOrEqualTo(TerminalSize.DefaultWidth, line.Length, line);
    }

    private static string[] Fields(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [TestMethod]
    [DataRow("500ms", 500)]
    [DataRow("1s", 1000)]
    [DataRow("1.5s", 1500)]
    [DataRow("2m", 120_000)]
    [DataRow("00:00:03", 3000)]
    public void DurationsParse(string text, int milliseconds)
    {
        Assert.IsTrue(DurationText.TryParse(text, out var value));
        Assert.AreEqual(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [TestMethod]
    public async Task ABadIntervalIsRefused()
    {
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["stats", "--watch", "--interval", "soon"]);

        Assert.AreNotEqual(ExitCodes.Ok, exit);
        Assert.Contains("'soon' is not a positive duration", cli.Error.ToString());
    }
}
