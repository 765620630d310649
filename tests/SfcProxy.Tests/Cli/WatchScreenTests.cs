using System.Text.RegularExpressions;
using SfcProxy.Cli;
using Spectre.Console;

namespace SfcProxy.Tests.Cli;

/// <summary>The parts of `stats --watch` a terminal cannot show one by one: rates, fitting, the escape stream.</summary>
[TestClass]
public sealed class WatchScreenTests
{
    [TestMethod]
    public void RatesArePerSecondOverTheInterval()
    {
        var before = new Dictionary<string, ulong> { ["rx_popped"] = 1000, ["tx_restored"] = 7 };
        var after = new Dictionary<string, ulong> { ["rx_popped"] = 4000, ["tx_restored"] = 7 };

        var rates = CounterRates.PerSecond(before, after, TimeSpan.FromMilliseconds(1500));

        Assert.AreEqual(2000.0, rates["rx_popped"]);
        Assert.AreEqual(0.0, rates["tx_restored"]);
        Assert.AreEqual("2,000.0", CounterRates.Text(rates["rx_popped"]));
    }

    [TestMethod]
    public void NoRateWithoutAnEarlierReadOrAfterAReset()
    {
        var after = new Dictionary<string, ulong> { ["rx_popped"] = 5, ["nsh_oam"] = 9 };

        var first = CounterRates.PerSecond(null, after, TimeSpan.FromSeconds(1));
        // The instance restarted (rx_popped began again); nsh_oam was not in the earlier answer.
        var reset = CounterRates.PerSecond(new Dictionary<string, ulong> { ["rx_popped"] = 100 }, after, TimeSpan.FromSeconds(1));
        var instant = CounterRates.PerSecond(new Dictionary<string, ulong> { ["rx_popped"] = 1, ["nsh_oam"] = 1 }, after, TimeSpan.Zero);

        Assert.IsNull(first["rx_popped"]);
        Assert.IsNull(reset["rx_popped"]);
        Assert.IsNull(reset["nsh_oam"]);
        Assert.IsNull(instant["rx_popped"]);
        Assert.AreEqual("-", CounterRates.Text(null));
    }

    [TestMethod]
    [DataRow("rx_popped", 80, "rx_popped")]
    [DataRow("0123456789", 10, "0123456789")]
    [DataRow("0123456789", 6, "01234…")]
    [DataRow("時間時間時間", 7, "時間時…")]
    public void FitCutsToTheWidthInCells(string line, int width, string expected)
    {
        string fitted = ScreenText.Fit(line, width);

        Assert.AreEqual(expected, fitted);
        Assert.IsLessThanOrEqualTo(width, fitted.GetCellWidth());
    }

    [TestMethod]
    public void AFrameShowsEveryCounterWhenTheyFit()
    {
        var lines = StatsFrame.Lines("title", Counters(zeros: 5), Rates(), 80, 40);

        Assert.AreEqual(2 + 8, lines.Count, string.Join('\n', lines));
        Assert.AreEqual("title", lines[0]);
        CollectionAssert.AreEqual(new[] { "counter", "total", "per", "second" }, Fields(lines[1]));
        // Grouped by program in packet order: xdp_rx, tc_tx, then the details.
        CollectionAssert.AreEqual(new[] { "rx_popped", "rx_zero0", "rx_zero1", "rx_zero2", "rx_zero3", "rx_zero4", "tx_restored", "labels_popped" },
            lines.Skip(2).Select(l => Fields(l)[0]).ToArray());
        CollectionAssert.AreEqual(new[] { "rx_popped", "1,234,567", "2,500.5" }, Fields(lines[2]));
        CollectionAssert.AreEqual(new[] { "tx_restored", "99", "-" }, Fields(lines[8]));
    }

    [TestMethod]
    public void TheZerosGiveWayFirstThenTheLastRows()
    {
        var tall = StatsFrame.Lines("title", Counters(zeros: 30), Rates(), 80, 10);
        var tiny = StatsFrame.Lines("title", Counters(zeros: 30), Rates(), 80, 5);

        Assert.AreEqual(6, tall.Count, string.Join('\n', tall));
        CollectionAssert.AreEqual(new[] { "rx_popped", "tx_restored", "labels_popped" }, tall.Skip(2).Take(3).Select(l => Fields(l)[0]).ToArray(), string.Join('\n', tall));
        StringAssert.StartsWith(tall[^1], "(30 counters at 0 not shown");
        Assert.AreEqual(5, tiny.Count, string.Join('\n', tiny));
        StringAssert.StartsWith(tiny[^1], "(30 counters at 0 not shown, 1 more not shown");
    }

    [TestMethod]
    [DataRow(80)]
    [DataRow(40)]
    [DataRow(20)]
    public void AFrameFitsTheWidth(int width)
    {
        var counters = Counters(zeros: 0);
        counters["rx_popped"] = ulong.MaxValue;

        var lines = StatsFrame.Lines("a title longer than twenty columns and longer than forty too", counters, Rates(), width, 40);

        foreach (string line in lines)
            Assert.IsLessThanOrEqualTo(width, line.GetCellWidth(), line);
    }

    [TestMethod]
    public void OnATerminalOnlyTheFirstFrameClearsTheScreen()
    {
        var output = new StringWriter();
        var screen = new WatchScreen(output, terminal: true);

        screen.Draw(["first", "frame"]);
        int afterFirst = output.ToString().Length;
        screen.Draw(["second"]);
        screen.Dispose();
        string first = output.ToString()[..afterFirst], rest = output.ToString()[afterFirst..];

        Assert.AreEqual(1, Regex.Matches(first, Regex.Escape("\u001b[2J")).Count, first);
        Assert.DoesNotContain("\u001b[2J", rest);
        StringAssert.StartsWith(rest, "\u001b[Hsecond\u001b[K\r\n\u001b[J", "home, overwrite, clear to the line's end, clear what the longer frame left below");
        StringAssert.EndsWith(rest, "\u001b[?25h", "the cursor shown again");
        StringAssert.StartsWith(first, "\u001b[?25l");
    }

    [TestMethod]
    public void InAPipeFramesArePlainText()
    {
        var output = new StringWriter();
        using (var screen = new WatchScreen(output, terminal: false))
        {
            screen.Draw(["a", "b"]);
            screen.Draw(["c"]);
        }

        Assert.AreEqual("a\nb\n\nc\n", output.ToString());
    }

    private static Dictionary<string, ulong> Counters(int zeros)
    {
        var counters = new Dictionary<string, ulong> { ["labels_popped"] = 3, ["tx_restored"] = 99, ["rx_popped"] = 1_234_567 };
        for (int i = 0; i < zeros; i++)
            counters[$"rx_zero{i}"] = 0;
        return counters;
    }

    private static Dictionary<string, double?> Rates() => new() { ["rx_popped"] = 2500.5, ["labels_popped"] = 0 };

    private static string[] Fields(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
