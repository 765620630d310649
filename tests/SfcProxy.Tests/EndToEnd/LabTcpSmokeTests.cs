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

            // run_id,utc,system,encap,labels,rep,gbps,retransmits,snd_cpu_pct,rcv_cpu_pct,expected_kind,ok_share,...
            var rows = File.ReadAllLines(Path.Combine(output, "lab-tcp.csv")).Skip(1).Select(l => l.Split(',')).ToList();
            foreach (var system in new[] { "floor", "metadata", "header-hash" })
                Assert.IsTrue(rows.Any(r => r[2] == system), $"no {system} rows in lab-tcp.csv\n{stdout.Result}");
            Assert.IsTrue(rows.Any(r => r[3] == "nsh1"), $"no NSH row in lab-tcp.csv\n{stdout.Result}");
            foreach (var r in rows)
            {
                Assert.IsGreaterThan(0.0, double.Parse(r[6], CultureInfo.InvariantCulture), $"{r[2]} {r[3]} {r[4]}: no TCP throughput\n{stdout.Result}");
                Assert.AreEqual(1.0, double.Parse(r[11], CultureInfo.InvariantCulture), 1e-9,
                    $"{r[2]} {r[3]} {r[4]}: not every frame arrived with the stack the proxy must restore\n{stdout.Result}");
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
