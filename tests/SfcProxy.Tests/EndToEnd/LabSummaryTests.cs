using System.Text.Json.Nodes;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// tests/e2e/lab_summary.py, the lines the demo and run_lab.sh end with: computed from the
/// receiver's checks (its all_ok decides PASS and the exit code, whatever else the file says), in
/// 80 columns, naming where the raw JSON is.
/// </summary>
[TestClass]
public sealed class LabSummaryTests
{
    private static JsonObject Receiver(bool allOk, int ok = 1726, int wrongStack = 0) => new()
    {
        ["expected"] = 1726, ["expected_dropped"] = 261, ["expected_expired"] = 13,
        ["expected_mpls"] = 900, ["expected_nsh"] = 826, ["ok_mpls"] = 900, ["ok_nsh"] = ok - 900,
        ["received"] = ok, ["ok"] = ok, ["missing"] = 1726 - ok - wrongStack, ["wrong_stack"] = wrongStack,
        ["duplicates"] = 0, ["unexpected"] = 0, ["leaked"] = 0, ["expired_delivered"] = 0, ["all_ok"] = allOk,
        ["sent"] = new JsonObject { ["mpls"] = 1062, ["nsh"] = new JsonObject { ["total"] = 938, ["md1"] = 500 } }, ["params"] = new JsonObject { ["count"] = 2000 },
        ["first_errors"] = new JsonArray("k1 idx=3 v4/udp mpls: stack: entry 0: want label=16 got label=17"),
    };

    private static CmdResult Summarize(JsonObject receiver, string? stats)
    {
        var dir = Directory.CreateTempSubdirectory("sfcproxy-summary-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "receiver.json"), receiver.ToJsonString());
            List<string> args = [Path.Combine(LabEnvironment.ScriptDir, "lab_summary.py"), "--receiver", Path.Combine(dir, "receiver.json"),
                "--scenario", "metadata key, kernel VNF, encap mixed", "--raw", "/tmp/sfcproxy-demo-x/metadata-kernel"];
            if (stats is not null)
            {
                File.WriteAllText(Path.Combine(dir, "stats.json"), stats);
                args.AddRange(["--stats", Path.Combine(dir, "stats.json")]);
            }
            return Cmd.Run(LabEnvironment.Python, args, TimeSpan.FromSeconds(20));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void APassingRunSaysWhatHappenedInAFewLines()
    {
        var r = Summarize(Receiver(allOk: true), """{"ok":true,"counters":{"rx_popped":2000,"tx_restored":1500,"tx_restored_last":226,"tx_si_exhausted":13,"rx_cache_full":0}}""");

        Assert.AreEqual(0, r.ExitCode, r.ToString());
        var lines = r.StdOut.TrimEnd('\n').Split('\n');
        Assert.AreEqual("metadata key, kernel VNF, encap mixed: PASS", lines[0]);
        CollectionAssert.Contains(lines, "  sent      2,000 packets (1,062 MPLS, 938 NSH)");
        CollectionAssert.Contains(lines, "  intended  1,726 through the VNF, 261 dropped by its policy, 13 expired");
        CollectionAssert.Contains(lines, "  arrived   1,726 of 1,726 with their own headers (MPLS 900/900, NSH 826/826)");
        CollectionAssert.Contains(lines, "  wrong     none: every packet carried its own headers");
        Assert.IsTrue(lines.Any(l => l.Contains("2,000  rx_popped", StringComparison.Ordinal)), r.StdOut);
        Assert.IsFalse(lines.Any(l => l.Contains("rx_cache_full", StringComparison.Ordinal)), "zero counters beyond the main two are left out");
        StringAssert.Contains(r.StdOut, "raw JSON  /tmp/sfcproxy-demo-x/metadata-kernel/");
        Assert.IsTrue(lines.All(l => l.Length <= 80), "fits 80 columns:\n" + r.StdOut);
    }

    [TestMethod]
    public void WrongHeadersFailWithTheReceiversFirstErrorsAndExitOne()
    {
        var r = Summarize(Receiver(allOk: false, ok: 1720, wrongStack: 6), stats: null);

        Assert.AreEqual(1, r.ExitCode, r.ToString());
        StringAssert.StartsWith(r.StdOut, "metadata key, kernel VNF, encap mixed: FAIL\n");
        StringAssert.Contains(r.StdOut, "  arrived   1,720 of 1,726 with their own headers");
        StringAssert.Contains(r.StdOut, "  wrong     6 wrong stack\n");
        StringAssert.Contains(r.StdOut, "want label=16 got label=17");
        StringAssert.Contains(r.StdOut, "proxy counters: unavailable");
    }

    [TestMethod]
    public void SrvSixIsNamedBesideMplsAndNshAndItsWrongHeadersCount()
    {
        var receiver = Receiver(allOk: false, ok: 1722);
        receiver["expected_srv6"] = 300;
        receiver["ok_srv6"] = 296;
        receiver["wrong_srv6"] = 4;
        receiver["missing"] = 0;
        receiver["sent"]!["srv6"] = new JsonObject { ["total"] = 333, ["hmac"] = 90 };

        var r = Summarize(receiver, stats: null);

        Assert.AreEqual(1, r.ExitCode, r.ToString());
        StringAssert.Contains(r.StdOut, "  sent      2,000 packets (1,062 MPLS, 938 NSH, 333 SRv6)");
        StringAssert.Contains(r.StdOut, "(MPLS 900/900, NSH 822/826, SRv6 296/300)");
        StringAssert.Contains(r.StdOut, "  wrong     4 wrong srv6\n");
    }

    [TestMethod]
    public void TheReceiversVerdictDecidesNotTheCounts()
    {
        // Every count looks fine, but the receiver found a fault (all_ok false): FAIL.
        var r = Summarize(Receiver(allOk: false), stats: null);

        Assert.AreEqual(1, r.ExitCode, r.ToString());
        StringAssert.StartsWith(r.StdOut, "metadata key, kernel VNF, encap mixed: FAIL\n");
    }
}
