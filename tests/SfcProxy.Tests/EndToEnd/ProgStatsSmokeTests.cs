using System.Globalization;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// vm-lab/prog-stats.sh in seconds: the per-program run time of the floor's and SfcProxy's programs
/// inside the real lab chain. Proves the script finds the programs (pinned links, bpftool net show),
/// that every packet sent ran them once, and that it leaves kernel.bpf_stats_enabled as it found it.
/// </summary>
[TestClass]
public sealed class ProgStatsSmokeTests
{
    [TestMethod]
    public void ProgStatsFindsEveryProgramAndRestoresTheSysctl()
    {
        LabEnvironment.RequirePreconditions(needTun: false);
        var before = File.ReadAllText("/proc/sys/kernel/bpf_stats_enabled").Trim();
        var output = Path.Combine(Directory.CreateTempSubdirectory("sfcproxy-prog-stats-").FullName, "stats.md");
        try
        {
            var stdout = LabScript.Run("vm-lab/prog-stats.sh", ["--systems", "floor,metadata", "--encaps", "4", "--seconds", "0.5", "--out", output], TimeSpan.FromSeconds(120)).StdOut;
            Assert.AreEqual(before, File.ReadAllText("/proc/sys/kernel/bpf_stats_enabled").Trim(), "bpf_stats_enabled not restored");

            var rows = File.ReadAllLines(output).Where(l => l.StartsWith("| floor |") || l.StartsWith("| metadata |"))
                .Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).Where(c => !c[3].StartsWith("**")).ToList();
            var programs = rows.Select(c => (System: c[1], Program: c[3].Split(' ')[0])).ToHashSet();
            foreach (var expected in new[] { ("floor", "empty_xdp"), ("floor", "empty_tc"), ("metadata", "xdp_rx"),
                         ("metadata", "meta_mark"), ("metadata", "tc_tx") })
                Assert.Contains(expected, programs, $"no row for {expected}\n{File.ReadAllText(output)}");
            foreach (var c in rows)
            {
                // Every frame sent crosses each program once (tc_tx: restored); a little loss at the sender's queue is allowed.
                var runsPerPacket = double.Parse(c[4], CultureInfo.InvariantCulture);
                Assert.IsTrue(runsPerPacket is > 0.9 and <= 1.0, $"{c[1]} {c[3]}: {runsPerPacket} runs per packet sent");
                Assert.IsGreaterThan(0.0, double.Parse(c[5], CultureInfo.InvariantCulture), $"{c[1]} {c[3]}: no run time");
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(output)!, recursive: true);
        }
    }
}
