using System.Globalization;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The lab's quick TCP bench (vm-lab/lab.sh bench-tcp --quick, about 15 s; --vnf tun about 8 s):
/// iperf3 through the sender's encap program, the floor and SfcProxy through the real daemon, the
/// kernel or the user-mode VNF, and the receiver's decap program, which counts what arrives. A smoke
/// run: it proves TCP gets through every system with the stack the proxy must restore on every
/// frame, not how fast it is.
/// </summary>
[TestClass]
public sealed class LabTcpSmokeTests
{
    [TestMethod]
    public void QuickTcpBenchCarriesTcpThroughEverySystemAndRestoresEveryStack()
    {
        LabEnvironment.RequirePreconditions(needTun: false, needBpftool: true);
        RunQuickAndCheck([], "lab-tcp", ["floor", "metadata", "header-hash"]);
    }

    [TestMethod]
    public void QuickTcpBenchThroughUserModeVnfRestoresEveryStack()
    {
        LabEnvironment.RequirePreconditions(needTun: true, needBpftool: true);
        RunQuickAndCheck(["--vnf", "tun"], "lab-tcp-tun", ["floor", "header-hash"]);
    }

    private static void RunQuickAndCheck(string[] extra, string baseName, string[] systems)
    {
        var output = Directory.CreateTempSubdirectory("sfcproxy-lab-tcp-smoke-").FullName;
        try
        {
            var stdout = LabScript.Run("vm-lab/lab.sh", ["bench-tcp", "--quick", .. extra, "--out", output], TimeSpan.FromSeconds(180)).StdOut;

            // Columns by name; the quoted by_kind JSON has commas: columns after it count from the end.
            var lines = File.ReadAllLines(Path.Combine(output, baseName + ".csv"));
            var col = lines[0].Split(',').Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i);
            var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
            string At(string[] r, string name) =>
                col[name] < col["by_kind"] ? r[col[name]] : r[r.Length - (col.Count - col[name])];
            foreach (var system in systems)
                Assert.IsTrue(rows.Any(r => At(r, "system") == system), $"no {system} rows in {baseName}.csv\n{stdout}");
            Assert.IsTrue(rows.All(r => systems.Contains(At(r, "system"))), $"a system beyond [{string.Join(' ', systems)}]\n{stdout}");
            Assert.IsTrue(rows.Any(r => At(r, "encap") == "nsh1"), $"no NSH row in {baseName}.csv\n{stdout}");
            foreach (var r in rows)
            {
                var what = $"{At(r, "system")} {At(r, "encap")} {At(r, "labels")}";
                Assert.IsGreaterThan(0.0, double.Parse(At(r, "gbps"), CultureInfo.InvariantCulture), $"{what}: no TCP throughput\n{stdout}");
                Assert.AreEqual(extra.Length > 0 ? "tun" : "kernel", At(r, "vnf"), $"{what}: the VNF column");
                Assert.AreEqual(1.0, double.Parse(At(r, "ok_share"), CultureInfo.InvariantCulture), 1e-9,
                    $"{what}: not every frame arrived with the stack the proxy must restore\n{stdout}");
            }
            Assert.IsTrue(File.Exists(Path.Combine(output, baseName + ".png")), $"no {baseName}.png");
            Assert.IsTrue(File.Exists(Path.Combine(output, baseName + ".md")), $"no {baseName}.md");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
