using System.Net.Sockets;
using System.Text.Json;
using SfcProxy.Control;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Control;

[TestClass]
public sealed class ControlServerTests
{
    [TestMethod]
    public async Task StatsAnswersEveryCounterBySnakeCaseName()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = JsonDocument.Parse(await fixture.AskAsync("""{"request":"stats"}"""));

        Assert.IsTrue(answer.RootElement.GetProperty("ok").GetBoolean());
        var counters = answer.RootElement.GetProperty("counters");
        Assert.AreEqual(123UL, counters.GetProperty("rx_popped").GetUInt64());
        Assert.AreEqual(120UL, counters.GetProperty("tx_restored").GetUInt64());
        Assert.AreEqual(0UL, counters.GetProperty("rx_too_many_labels").GetUInt64());
        Assert.AreEqual((int)Counter.Max, counters.EnumerateObject().Count());
        Assert.AreEqual("rx_popped", counters.EnumerateObject().First().Name);
    }

    [TestMethod]
    public async Task CacheAnswersOccupancy()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        string answer = await fixture.AskAsync("""{"request":"cache"}""");

        Assert.AreEqual("""{"ok":true,"cache":{"keyMode":"header-hash","entries":3,"capacity":65536}}""", answer);
    }

    [TestMethod]
    public async Task StatusAnswersInstanceModeInterfacesAndUptime()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        using var answer = JsonDocument.Parse(await fixture.AskAsync("""{"request":"status"}"""));

        var status = answer.RootElement.GetProperty("status");
        Assert.AreEqual("test", status.GetProperty("instance").GetString());
        Assert.AreEqual("header-hash", status.GetProperty("keyMode").GetString());
        Assert.AreEqual("lo", status.GetProperty("interfaces").GetProperty("ingress").GetString());
        Assert.AreEqual(JsonValueKind.Null, status.GetProperty("interfaces").GetProperty("vnf").ValueKind);
        Assert.IsGreaterThanOrEqualTo(0.0, status.GetProperty("uptimeSeconds").GetDouble());
    }

    [TestMethod]
    [DataRow("{not json", "malformed JSON")]
    [DataRow("[1,2]", "expected an object")]
    [DataRow("""{"request":42}""", "expected an object")]
    [DataRow("""{"request":"reboot"}""", "unknown request 'reboot' (accepted: stats, cache, cache-dump, status, metrics, histograms, flush, log-level, policy-status, policy-apply, policy-check, dsr-status, dsr-backend)")]
    public async Task BadRequestGetsAnErrorAndTheConnectionStaysUsable(string request, string error)
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        using var socket = await fixture.ConnectAsync();
        using var connection = new LineConnection(socket);

        using var bad = JsonDocument.Parse(await connection.AskAsync(request));
        using var good = JsonDocument.Parse(await connection.AskAsync("""{"request":"stats"}"""));

        Assert.IsFalse(bad.RootElement.GetProperty("ok").GetBoolean());
        Assert.Contains(error, bad.RootElement.GetProperty("error").GetString()!);
        Assert.IsTrue(good.RootElement.GetProperty("ok").GetBoolean());
    }

    [TestMethod]
    public async Task SeveralRequestsInOneWriteAreAnsweredInOrder()
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        using var socket = await fixture.ConnectAsync();
        using var connection = new LineConnection(socket);

        await connection.SendAsync("{\"request\":\"cache\"}\r\n\n{\"request\":\"stats\"}\n{\"request\":\"status\"}");
        socket.Shutdown(SocketShutdown.Send); // last line has no newline: answered at end of input

        StringAssert.StartsWith(await connection.ReadLineAsync(), """{"ok":true,"cache":""");
        StringAssert.StartsWith(await connection.ReadLineAsync(), """{"ok":true,"counters":""");
        StringAssert.StartsWith(await connection.ReadLineAsync(), """{"ok":true,"status":""");
        Assert.IsNull(await connection.ReadLineAsync());
    }

    [TestMethod]
    public async Task OversizedLineGetsAnErrorAndTheConnectionCloses()
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        using var socket = await fixture.ConnectAsync();
        using var connection = new LineConnection(socket);

        // No newline: the server must give up after 64 KiB instead of buffering forever.
        var send = connection.SendAsync("{\"request\":\"" + new string('x', 80 * 1024));
        string? answer = await connection.ReadLineAsync();

        using var error = JsonDocument.Parse(answer!);
        Assert.IsFalse(error.RootElement.GetProperty("ok").GetBoolean());
        Assert.Contains("longer than 65536 bytes", error.RootElement.GetProperty("error").GetString()!);
        Assert.IsTrue(await IsClosedAsync(connection), "connection still open after an oversized line");
        await IgnoreFailureAsync(send);
    }

    [TestMethod]
    public async Task TwoHundredConcurrentClientsAreAllAnsweredWhileOneStalls()
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        using var stalled = await fixture.ConnectAsync();
        using var stalledConnection = new LineConnection(stalled);
        await stalledConnection.SendAsync("{\"request\":"); // never finished

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => fixture.AskAsync("""{"request":"stats"}""")));

        Assert.HasCount(200, answers);
        foreach (string answer in answers)
            StringAssert.StartsWith(answer, """{"ok":true,"counters":{"rx_popped":123,""");
    }

    [TestMethod]
    public async Task DatapathFailureIsReportedOnTheLine()
    {
        await using var fixture = await ControlServerFixture.StartAsync(new FakeDatapath { ReadFailure = new IOException("map gone") });

        using var answer = JsonDocument.Parse(await fixture.AskAsync("""{"request":"stats"}"""));

        Assert.AreEqual("stats unavailable: map gone", answer.RootElement.GetProperty("error").GetString());
    }

    [TestMethod]
    public async Task SocketIsGroupAccessibleAndRemovedOnStop()
    {
        var fixture = await ControlServerFixture.StartAsync();
        try
        {
            Assert.AreEqual(ControlSocketFile.Mode, File.GetUnixFileMode(fixture.SocketPath));
            await fixture.Server.StopAsync(CancellationToken.None);
            Assert.IsFalse(File.Exists(fixture.SocketPath));
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task StaleSocketIsReplacedButALiveOneIsNotStolen()
    {
        await using var first = await ControlServerFixture.StartAsync();
        string stalePath = Path.Combine(first.Directory, "stale.sock");
        using (var abandoned = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            abandoned.Bind(new UnixDomainSocketEndPoint(stalePath)); // closed without unlink: a crashed instance

        var live = new SfcProxy.Configuration.SfcProxyOptions { Socket = { Path = first.SocketPath } };
        var second = new ControlServer(Microsoft.Extensions.Options.Options.Create(live), [], TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ControlServer>.Instance);

        var refused = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => second.StartAsync(CancellationToken.None));
        Assert.Contains("already listening", refused.Message);
        var (replaced, _) = ControlSocketFile.Listen(stalePath, backlog: 1);
        using (replaced)
            Assert.IsTrue(File.Exists(stalePath));
    }

    private static async Task<bool> IsClosedAsync(LineConnection connection)
    {
        try
        {
            return await connection.ReadLineAsync() is null;
        }
        catch (IOException)
        {
            return true; // ECONNRESET: the server closed with our unread bytes still queued
        }
    }

    private static async Task IgnoreFailureAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (IOException)
        {
        }
    }
}
