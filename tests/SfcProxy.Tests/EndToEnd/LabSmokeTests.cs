using System.Globalization;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The lab's quick bench (vm-lab/lab.sh bench --quick, about 15 s): the live-frames generator, the
/// floor, the Open vSwitch static proxy (one point, 1 label), the benchmark's static proxy in
/// SfcProxy's hooks (the job's limit) and SfcProxy in both key modes through
/// the real daemon, every frame checked at the
/// receiver for the stack the proxy must restore. A smoke run: it proves the lab works from a
/// clean clone, not how fast anything is.
/// </summary>
[TestClass]
public sealed class LabSmokeTests
{
    [TestMethod]
    public void QuickBenchRunsEverySystemAndRestoresEveryStack()
    {
        LabEnvironment.RequirePreconditions(needTun: false);
        var output = Directory.CreateTempSubdirectory("sfcproxy-lab-smoke-").FullName;
        try
        {
            var stdout = LabScript.Run("vm-lab/lab.sh", ["bench", "--quick", "--out", output], TimeSpan.FromSeconds(180)).StdOut;

            var rows = File.ReadAllLines(Path.Combine(output, "lab-pps.csv")).Skip(1).Select(l => l.Split(',')).ToList();
            foreach (var system in new[] { "floor", "ovs", "static", "metadata", "header-hash" })
                Assert.IsTrue(rows.Any(r => r[2] == system),
                    $"no {system} rows in lab-pps.csv (ovs needs openvswitch-switch: scripts/setup.sh)\n{stdout}");
            foreach (var r in rows)
            {
                Assert.IsGreaterThan(0L, long.Parse(r[9], CultureInfo.InvariantCulture), $"{r[2]} {r[4]} {r[5]}: no packets arrived");
                Assert.AreEqual(1.0, double.Parse(r[11], CultureInfo.InvariantCulture), 1e-9,
                    $"{r[2]} {r[4]} {r[5]}: not every frame arrived with the stack the proxy must restore");
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
