using System.Net.Sockets;
using System.Text;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The daemon as a systemd service (Type=notify), through Microsoft.Extensions.Hosting.Systemd: run
/// as the child of a process named "systemd" with NOTIFY_SOCKET set (tests/e2e/systemd_parent.py),
/// it sends READY=1 only once its control socket answers, STOPPING=1 when SIGTERM arrives, and logs
/// in the journal's format (one line per message, a &lt;N&gt; priority prefix).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class SystemdTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void UnderSystemd_ReadyOnceTheSocketAnswers_StoppingOnSigterm_JournalFormat()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "header-hash", UserVnf: false, IpHops: 1), needBpftool: true);
        var notifyPath = Path.Combine(lab.Tmp, "notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        notify.ReceiveTimeout = 60_000;

        using var parent = new LabProcess("env", [$"NOTIFY_SOCKET={notifyPath}", LabEnvironment.Python,
            Path.Combine(LabEnvironment.ScriptDir, "systemd_parent.py"),
            "nsenter", $"--net=/run/netns/{lab.Topo.ProxyNs}", "--", .. LabEnvironment.DaemonCommand, "run", "--config", lab.WriteConfig()]);
        var ready = Receive(notify, parent);
        var answeredAtReady = lab.StatusAsRoot();
        lab.Log($"notify: {ready.Replace('\n', ' ')}; status at READY=1: exit {answeredAtReady.ExitCode}");
        StringAssert.StartsWith(ready, "READY=1", parent.Describe());
        Assert.AreEqual(0, answeredAtReady.ExitCode, $"READY=1 came before the control socket answered: {answeredAtReady}");

        var child = parent.StdOut.Split('\n').First(l => l.StartsWith("CHILD ", StringComparison.Ordinal));
        var pid = int.Parse(child["CHILD ".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsTrue(Native.Terminate(pid), $"could not SIGTERM the daemon (pid {pid})");
        var stopping = Receive(notify, parent);
        StringAssert.StartsWith(stopping, "STOPPING=1", parent.Describe());
        Assert.IsTrue(parent.WaitForExit(TimeSpan.FromSeconds(20)), parent.Describe());
        Assert.AreEqual(0, parent.ExitCode, parent.Describe());
        lab.AssertFullyDetached(parent.Describe());

        var lines = parent.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("CHILD ", StringComparison.Ordinal)).ToList();
        Assert.IsNotEmpty(lines, parent.Describe());
        Assert.IsTrue(lines.All(l => l.Length > 3 && l[0] == '<' && char.IsDigit(l[1]) && l[2] == '>'),
            $"under systemd every log line should start with a <N> priority:\n{parent.Describe()}");
    }

    private static string Receive(Socket notify, LabProcess parent)
    {
        var buffer = new byte[4096];
        try
        {
            var n = notify.Receive(buffer);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }
        catch (SocketException e)
        {
            Assert.Fail($"no notification from the daemon ({e.SocketErrorCode}).\n{parent.Describe()}");
            return "";
        }
    }
}
