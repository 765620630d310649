using System.Diagnostics;
using SfcProxy.Control;

namespace SfcProxy.Tests.Control;

/// <summary>flush and log-level need root: checked with SO_PEERCRED against a client run as root and one run as nobody.</summary>
[TestClass]
public sealed class PeerCredentialsTests
{
    [TestMethod]
    public async Task TheServerSeesThisProcessAsTheClient()
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        using var client = await fixture.ConnectAsync();
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix,
            System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);

        // The client end reports the server's credentials: both are this process.
        var peer = PeerCredentials.Of(client);

        Assert.AreEqual(Environment.ProcessId, peer.Pid);
        Assert.AreEqual(0u, peer.Uid, "tests run as root");
        Assert.AreEqual(PeerCredentials.Unknown, PeerCredentials.Of(listener), "an unconnected socket has no peer");
    }

    [TestMethod]
    public async Task NobodyMayReadButNotFlushOrChangeTheLogLevel()
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        // nobody must be able to reach the socket for the refusal to be about SO_PEERCRED.
        File.SetUnixFileMode(fixture.Directory, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(fixture.SocketPath, (UnixFileMode)0b110_110_110);

        string[] answers = await AskAsNobodyAsync(fixture.SocketPath,
            """{"request":"stats"}""", """{"request":"flush"}""", """{"request":"log-level","level":"Debug"}""",
            """{"request":"policy-apply"}""", """{"request":"dsr-backend","action":"remove","vip":"198.18.60.10","port":80,"protocol":"tcp","address":"198.18.70.1"}""");

        StringAssert.StartsWith(answers[0], """{"ok":true,"counters":""");
        Assert.AreEqual("""{"ok":false,"error":"flush needs root (peer uid 65534)"}""", answers[1]);
        Assert.AreEqual("""{"ok":false,"error":"log-level needs root (peer uid 65534)"}""", answers[2]);
        // Root-only requests of modules this instance does not run: "needs root" comes first, as always.
        Assert.AreEqual("""{"ok":false,"error":"policy-apply needs root (peer uid 65534)"}""", answers[3]);
        Assert.AreEqual("""{"ok":false,"error":"dsr-backend needs root (peer uid 65534)"}""", answers[4]);
        Assert.AreEqual(0, fixture.Datapath.Flushes);
        Assert.AreEqual(Microsoft.Extensions.Logging.LogLevel.Information, fixture.LogLevel.Minimum);
    }

    [TestMethod]
    public async Task TheSocketGetsTheConfiguredGroup()
    {
        await using var fixture = await ControlServerFixture.StartAsync(configure: o => o.Socket.Group = "nogroup");

        Assert.AreEqual("65534", (await RunAsync("stat", "-c", "%g", fixture.SocketPath)).Trim());
        Assert.AreEqual(ControlSocketFile.Mode, File.GetUnixFileMode(fixture.SocketPath));
    }

    /// <summary>Runs a tiny client as uid/gid 65534 with no supplementary groups; one answer line per request.</summary>
    private static async Task<string[]> AskAsNobodyAsync(string socketPath, params string[] requests)
    {
        const string client = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            f = s.makefile("rw")
            for line in sys.argv[2:]:
                f.write(line + "\n"); f.flush()
                print(f.readline().rstrip("\n"))
            """;
        string output = await RunAsync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
            "/usr/bin/python3", "-c", client, socketPath, .. requests]);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        string output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        string error = await process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.AreEqual(0, process.ExitCode, $"{file} failed: {error}");
        return output;
    }
}
