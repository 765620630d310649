using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using SfcProxy.Control;

namespace SfcProxy.Tests.Control;

/// <summary>Many, silent, garbage-sending and non-reading clients: each is answered or dropped, and none holds up the rest.</summary>
[TestClass]
public sealed class ControlSessionLimitsTests
{
    private static readonly ControlSessionLimits Short = new(TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(500));

    [TestMethod]
    public async Task AThousandConcurrentClientsAreAllAnsweredInBoundedTime()
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        var clock = Stopwatch.StartNew();

        var answers = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i =>
            fixture.AskAsync(i % 2 == 0 ? """{"request":"stats"}""" : """{"request":"cache-dump"}""")));

        clock.Stop();
        Assert.HasCount(1000, answers);
        Assert.IsEmpty(answers.Where(a => !a.StartsWith("""{"ok":true,""", StringComparison.Ordinal)));
        Assert.IsLessThan(15.0, clock.Elapsed.TotalSeconds, $"1000 clients took {clock.Elapsed}");
    }

    [TestMethod]
    public async Task ASilentClientIsToldAndDroppedAfterTheRequestTimeout()
    {
        await using var fixture = await ControlServerFixture.StartAsync(limits: Short);
        using var socket = await fixture.ConnectAsync();
        using var connection = new LineConnection(socket);
        var clock = Stopwatch.StartNew();

        string? answer = await connection.ReadLineAsync();

        Assert.Contains("no complete request for 0.3 s; closing connection", answer!);
        Assert.IsNull(await connection.ReadLineAsync());
        Assert.IsLessThan(5.0, clock.Elapsed.TotalSeconds);
    }

    [TestMethod]
    public async Task AClientThatSendsHalfALineAndFallsSilentIsDropped()
    {
        await using var fixture = await ControlServerFixture.StartAsync(limits: Short);
        using var socket = await fixture.ConnectAsync();
        using var connection = new LineConnection(socket);

        await connection.SendAsync("{\"request\":");

        StringAssert.Contains(await connection.ReadLineAsync(), "no complete request for");
        await WaitForAsync(() => fixture.Server.SessionCount == 0);
    }

    /// <summary>Bytes that never make a line do not keep a session: the timeout runs from the last
    /// answer, not the last byte (a client trickling a byte at a time once held a session forever).</summary>
    [TestMethod]
    public async Task AClientTricklingBytesThatNeverEndALineIsDroppedAfterTheRequestTimeout()
    {
        await using var fixture = await ControlServerFixture.StartAsync(limits: Short with { RequestTimeout = TimeSpan.FromSeconds(1) });
        using var socket = await fixture.ConnectAsync();
        using var connection = new LineConnection(socket);
        StringAssert.StartsWith(await connection.AskAsync("""{"request":"stats"}"""), """{"ok":true""");
        var clock = Stopwatch.StartNew();

        string? answer = null;
        var reading = connection.ReadLineAsync();
        while (!reading.IsCompleted && clock.Elapsed < TimeSpan.FromSeconds(8))
        {
            try
            {
                await connection.SendAsync("x");
            }
            catch (IOException)
            {
                break;
            }
            await Task.WhenAny(reading, Task.Delay(100));
        }
        answer = await reading;

        StringAssert.Contains(answer, "no complete request for 1 s");
        Assert.IsLessThan(8.0, clock.Elapsed.TotalSeconds, "the trickling client kept its session");
    }

    /// <summary>Over its share, a user's connection is refused with a line it can read, and root
    /// still gets in when everybody else is at the limit.</summary>
    [TestMethod]
    public async Task OverTheLimitsAUserIsRefusedReadablyAndRootStillGetsIn()
    {
        var limits = ControlSessionLimits.Default with { MaxSessions = 8, ReservedForRoot = 2, MaxSessionsPerUser = 100 };
        await using var fixture = await ControlServerFixture.StartAsync(limits: limits);
        // Tests run as root, so the "users" here are root too: fill all 8, the ninth is refused readably.
        var held = new List<Socket>();
        for (var i = 0; i < 8; i++)
            held.Add(await fixture.ConnectAsync());
        await WaitForAsync(() => fixture.Server.SessionCount == 8);
        using var ninth = await fixture.ConnectAsync();
        // It has sent its request already: the refusal must still reach it (no reset for unread input).
        await ninth.SendAsync(Encoding.UTF8.GetBytes("{\"request\":\"stats\"}\n"));
        using var connection = new LineConnection(ninth);

        StringAssert.Contains(await connection.ReadLineAsync(), "too many clients");
        Assert.IsNull(await connection.ReadLineAsync(), "the refused connection ends after its line");
        foreach (var s in held)
            s.Dispose();
    }

    [TestMethod]
    public async Task AClientThatNeverReadsIsDroppedWhileOthersAreServed()
    {
        await using var fixture = await ControlServerFixture.StartAsync(limits: Short with { RequestTimeout = TimeSpan.FromSeconds(30) });
        using var hog = await fixture.ConnectAsync();
        // Thousands of dumps, answers never read: the socket buffers fill, our writes block, the
        // write timeout drops the session. The sending side fails once the server closes.
        byte[] requests = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("{\"request\":\"cache-dump\"}\n", 50_000)));
        var flood = Task.Run(async () =>
        {
            try
            {
                await hog.SendAsync(requests);
            }
            catch (SocketException)
            {
            }
        });

        string other = await fixture.AskAsync("""{"request":"stats"}""");
        await WaitForAsync(() => fixture.Server.SessionCount == 0, TimeSpan.FromSeconds(10));

        StringAssert.StartsWith(other, """{"ok":true,"counters":""");
        hog.Dispose();
        await flood;
    }

    [TestMethod]
    [DataRow(new byte[] { 0xff, 0xfe, 0x00, 0x01, (byte)'\n' })]
    [DataRow(new byte[] { (byte)'{', (byte)'}', (byte)'\n' })]
    [DataRow(new byte[] { (byte)'"', (byte)'x', (byte)'"', (byte)'\n' })]
    public async Task GarbageIsAnsweredWithAnErrorAndTheSessionGoesOn(byte[] garbage)
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        using var socket = await fixture.ConnectAsync();
        using var connection = new LineConnection(socket);

        await socket.SendAsync(garbage);
        string? error = await connection.ReadLineAsync();
        string ok = await connection.AskAsync("""{"request":"cache"}""");

        StringAssert.StartsWith(error, """{"ok":false,"error":""");
        StringAssert.StartsWith(ok, """{"ok":true,""");
    }

    [TestMethod]
    public async Task OversizedLinesFromManyClientsLeaveNoSessionsBehind()
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        string huge = new('x', 100 * 1024);

        await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var socket = await fixture.ConnectAsync();
            using var connection = new LineConnection(socket);
            try
            {
                await connection.SendAsync(huge);
                await connection.ReadLineAsync();
            }
            catch (IOException)
            {
                // reset by the server closing with our bytes unread
            }
        }));

        await WaitForAsync(() => fixture.Server.SessionCount == 0);
        StringAssert.StartsWith(await fixture.AskAsync("""{"request":"stats"}"""), """{"ok":true""");
    }

    [TestMethod]
    public async Task ClientsThatConnectAndVanishLeaveNoSessionsBehind()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        for (int i = 0; i < 100; i++)
            (await fixture.ConnectAsync()).Dispose();

        await WaitForAsync(() => fixture.Server.SessionCount == 0);
    }

    private static async Task WaitForAsync(Func<bool> condition, TimeSpan? within = null)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > (within ?? TimeSpan.FromSeconds(5)))
                Assert.Fail("condition not reached in time");
            await Task.Delay(20);
        }
    }
}
