using System.Diagnostics;
using System.Globalization;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The lab's quick TCP bench (vm-lab/lab.sh bench-tcp --quick, about 15 s): iperf3 through the
/// sender's encap program, the floor and SfcProxy in both key modes through the real daemon, and
/// the receiver's decap program, which counts what arrives. A smoke run: it proves TCP gets through
/// every system with the stack the proxy must restore on every frame, not how fast it is.
/// </summary>
[TestClass]
public sealed class LabTcpSmokeTests
{
    [TestMethod]
    public void QuickTcpBenchCarriesTcpThroughEverySystemAndRestoresEveryStack()
    {
        LabEnvironment.RequirePreconditions(needTun: false, needBpftool: true);
        var output = Directory.CreateTempSubdirectory("sfcproxy-lab-tcp-smoke-").FullName;
        try
        {
            var psi = new ProcessStartInfo("bash",
                [Path.Combine(LabSmokeTests.RepoRoot(), "vm-lab", "lab.sh"), "bench-tcp", "--quick", "--out", output])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromSeconds(180)))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail($"lab.sh bench-tcp --quick did not finish in 180 s\n{stdout.Result}\n{stderr.Result}");
            }
            Assert.AreEqual(0, p.ExitCode, $"lab.sh bench-tcp --quick failed\n{stdout.Result}\n{stderr.Result}");

            // Columns by name; the quoted by_kind JSON (with commas) comes after every column read here.
            var lines = File.ReadAllLines(Path.Combine(output, "lab-tcp.csv"));
            var col = lines[0].Split(',').Select((name, i) => (name, i)).ToDictionary(c => c.name, c => c.i);
            var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
            string At(string[] r, string name) => r[col[name]];
            foreach (var system in new[] { "floor", "metadata", "header-hash" })
                Assert.IsTrue(rows.Any(r => At(r, "system") == system), $"no {system} rows in lab-tcp.csv\n{stdout.Result}");
            Assert.IsTrue(rows.Any(r => At(r, "encap") == "nsh1"), $"no NSH row in lab-tcp.csv\n{stdout.Result}");
            foreach (var r in rows)
            {
                var what = $"{At(r, "system")} {At(r, "encap")} {At(r, "labels")}";
                Assert.IsGreaterThan(0.0, double.Parse(At(r, "gbps"), CultureInfo.InvariantCulture), $"{what}: no TCP throughput\n{stdout.Result}");
                Assert.AreEqual(1.0, double.Parse(At(r, "ok_share"), CultureInfo.InvariantCulture), 1e-9,
                    $"{what}: not every frame arrived with the stack the proxy must restore\n{stdout.Result}");
            }
            Assert.IsTrue(File.Exists(Path.Combine(output, "lab-tcp.png")), "no lab-tcp.png");
            Assert.IsTrue(File.Exists(Path.Combine(output, "lab-tcp.md")), "no lab-tcp.md");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
