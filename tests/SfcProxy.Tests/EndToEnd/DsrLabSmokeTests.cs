using System.Globalization;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The DSR lab's quick bench (vm-lab/lab.sh bench-dsr --quick, about 15 s): the live-frames
/// generator through both floors and through dsr_lb in the real daemon, every frame checked at the
/// backend (plain to the VIP for the floors, IP-in-IP to the VIP for dsr_lb), and nothing left
/// behind. A smoke run: it proves the lab works from a clean clone, not how fast anything is.
/// </summary>
[TestClass]
public sealed class DsrLabSmokeTests
{
    [TestMethod]
    public void QuickDsrBenchSendsEveryFrameTheWayItsSystemMustAndCleansUp()
    {
        LabEnvironment.RequirePreconditions(needTun: false);
        var output = Directory.CreateTempSubdirectory("sfcproxy-dsr-lab-smoke-").FullName;
        try
        {
            var stdout = LabScript.Run("vm-lab/lab.sh", ["bench-dsr", "--quick", "--out", output], TimeSpan.FromSeconds(180)).StdOut;

            // run_id,utc,system,rep,flows,rx_pps,tx_pps,packets,expected,ok_share,by_kind(JSON),...,lb_counters
            var rows = File.ReadAllLines(Path.Combine(output, "lab-dsr.csv")).Skip(1).Select(l => l.Split(',')).ToList();
            foreach (var system in new[] { "kernel-fwd", "xdp-fwd", "dsr" })
                Assert.IsTrue(rows.Any(r => r[2] == system), $"no {system} rows in lab-dsr.csv\n{stdout}");
            foreach (var r in rows)
            {
                Assert.IsGreaterThan(0L, long.Parse(r[7], CultureInfo.InvariantCulture), $"{r[2]}: no packets arrived");
                Assert.AreEqual(1.0, double.Parse(r[9], CultureInfo.InvariantCulture), 1e-9,
                    $"{r[2]}: not every frame arrived as {(r[2] == "dsr" ? "IP-in-IP to the VIP" : "plain IPv4 to the VIP")}");
            }
            Assert.Contains("redirect=", rows.Last(r => r[2] == "dsr")[^1], "dsr_lb's counters: packets redirected to the backend link");
            Assert.IsTrue(File.Exists(Path.Combine(output, "lab-dsr.md")), "lab-dsr.md written");

            var run = rows[0][0];
            var namespaces = Cmd.Run("ip", "netns", "list").StdOut;
            Assert.DoesNotContain(run, namespaces, $"namespaces of run {run} left behind:\n{namespaces}");
            Assert.IsFalse(Directory.Exists($"/sys/fs/bpf/sfcproxy/{run}"), $"pins of run {run} left behind");
            Assert.IsFalse(Directory.Exists($"/tmp/vmlab-dsr-{run}"), $"state directory of run {run} left behind");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
