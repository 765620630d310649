using System.Diagnostics;
using System.Text.Json;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The control socket of the real daemon against a hostile member of its group (uid and gid 65534,
/// Socket:Group nogroup): 2,000 connections, silent or trickling a byte every 2 s into a line that
/// never ends, a slow client sending one whole request a byte at a time, and requests with invalid
/// UTF-8 and a lone surrogate (tests/e2e/hostile_clients.py). Meanwhile root's `sfcproxy status`
/// (the liveness probe) must answer every time; refused connections get a readable refusal line;
/// the bad requests get an error line and keep their session; the daemon logs them without a stack trace.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class HostileClientTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void TwoThousandHostileConnections_RootStatusAlwaysAnswers_RefusalsReadable_InvalidUtf8Answered()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "header-hash", UserVnf: false, IpHops: 1));
        var daemon = lab.StartDaemon(lab.WriteConfig(p => p["Socket"]!["Group"] = "nogroup"));

        var hostile = new LabProcess("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", LabEnvironment.Python,
            Path.Combine(LabEnvironment.ScriptDir, "hostile_clients.py"), "--socket", lab.SocketPath, "--connections", "2000", "--seconds", "14"]);
        using var _ = hostile;
        var probes = new List<(double At, CmdResult Result, double Took)>();
        var clock = Stopwatch.StartNew();
        while (!hostile.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var one = Stopwatch.StartNew();
            var r = lab.StatusAsRoot();
            probes.Add((clock.Elapsed.TotalSeconds, r, one.Elapsed.TotalSeconds));
            Thread.Sleep(500);
        }
        Assert.IsTrue(hostile.WaitForExit(TimeSpan.FromSeconds(30)), $"hostile_clients.py did not finish.\n{hostile.Describe()}");
        Assert.AreEqual(0, hostile.ExitCode, $"hostile_clients.py failed.\n{hostile.Describe()}");
        var report = hostile.StdOut.Trim();
        lab.Log($"hostile clients: {report}");
        lab.Log($"root status probes: {probes.Count}, slowest {probes.Max(p => p.Took):0.00} s");

        var failed = probes.Where(p => p.Result.ExitCode != 0).ToList();
        Assert.IsGreaterThanOrEqualTo(8, probes.Count, $"too few status probes ran during the attack.\n{report}");
        Assert.IsEmpty(failed, $"root's `sfcproxy status` failed during the attack ({failed.Count} of {probes.Count}), first at " +
            $"{failed.FirstOrDefault().At:0.0} s: {failed.FirstOrDefault().Result}\nhostile: {report}\n{daemon.Process.Describe(3000)}");

        using var doc = JsonDocument.Parse(report);
        var h = doc.RootElement;
        Assert.IsGreaterThan(0, h.GetProperty("refused_with_line").GetInt32(), $"no refused connection got a refusal line: {report}");
        Assert.AreEqual(0, h.GetProperty("reset").GetInt32(), $"connections were reset instead of getting a line: {report}");
        Assert.AreEqual(0, h.GetProperty("closed_without_line").GetInt32(), $"connections were closed without a line: {report}");
        foreach (var lines in h.GetProperty("invalid_utf8").EnumerateArray())
        {
            var l = lines.EnumerateArray().Select(x => x.GetString()!).ToList();
            Assert.HasCount(2, l, $"an invalid-UTF-8 request should get an error line and its session should answer the next request: {report}");
            StringAssert.StartsWith(l[0], """{"ok":false,"error":""", report);
            StringAssert.StartsWith(l[1], """{"ok":true,"counters":""", report);
        }
        var slow = h.GetProperty("slow").EnumerateArray().Select(x => x.GetString()!).ToList();
        Assert.HasCount(1, slow, $"the slow client's one request was not answered once: {report}");
        StringAssert.StartsWith(slow[0], """{"ok":true,"status":""", report);

        Assert.AreEqual(0, lab.StatusAsRoot().ExitCode, "status after the attack");
        var log = daemon.Process.StdOut + daemon.Process.StdErr;
        Assert.DoesNotContain("   at ", log, $"the daemon logged a stack trace:\n{daemon.Process.Describe(6000)}");
        var stop = daemon.Stop(TimeSpan.FromSeconds(15));
        Assert.AreEqual(0, daemon.Process.ExitCode, $"{stop}\n{daemon.Process.Describe(3000)}");
    }
}
