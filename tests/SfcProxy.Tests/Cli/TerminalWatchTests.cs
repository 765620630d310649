using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using SfcProxy.Cli;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Tests.Control;
using SfcProxy.Tests.EndToEnd;
using Spectre.Console;

namespace SfcProxy.Tests.Cli;

/// <summary>
/// `sfcproxy stats --watch` and `sfcproxy latency` as an operator sees them: the real binary in a
/// tmux pane of a fixed size, asking a real control server (the fake datapath behind it, its
/// counters moving like traffic). tmux is the judge of what the terminal shows: `capture-pane -J`
/// joins any line the terminal had to wrap, and the history holds every line that scrolled away.
/// </summary>
[TestClass]
public sealed class TerminalWatchTests
{
    private const string FullScreenClear = "\u001b[2J";
    private const string ShowCursor = "\u001b[?25h";
    private const string HideCursor = "\u001b[?25l";
    private static readonly TimeSpan Startup = TimeSpan.FromSeconds(20);

    [TestMethod]
    [DataRow(80, 30)]
    [DataRow(64, 16)]
    public async Task StatsWatchRedrawsInPlaceWithinThePane(int width, int height)
    {
        await using var server = await ControlServerFixture.StartAsync();
        using var traffic = new CancellationTokenSource();
        // 500 packets every 100 ms: about 5,000 per second on rx_popped once the second frame comes.
        var counting = Task.Run(async () =>
        {
            while (!traffic.IsCancellationRequested)
            {
                server.Datapath.Counters[Counter.RxPopped] += 500;
                await Task.Delay(100);
            }
        });
        using var pane = TmuxPane.Start(width, height,
            LabEnvironment.Dotnet, LabEnvironment.DaemonDll, "stats", "--watch", "--interval", "1s", "--socket", server.SocketPath);
        try
        {
            Assert.IsTrue(pane.WaitFor(lines => Rate(lines, "rx_popped") is not null, Startup), Show(pane));
            Assert.AreEqual("-", Rate(pane.Capture(joined: true), "rx_popped"), "the first frame has no interval to compute a rate over\n" + Show(pane));

            Assert.IsTrue(pane.WaitFor(lines => Rate(lines, "rx_popped") is { } r && r != "-", TimeSpan.FromSeconds(5)), Show(pane));
            double rate = double.Parse(Rate(pane.Capture(joined: true), "rx_popped")!, NumberStyles.Number, CultureInfo.InvariantCulture);
            Assert.IsTrue(rate is > 1000 and < 20_000, $"rx_popped moves by about 5,000/s, shown {rate}\n" + Show(pane));
            Assert.AreEqual("0.0", Rate(pane.Capture(joined: true), "tx_miss_drop"), "a counter that does not move: rate 0\n" + Show(pane));
            string? second = Total(pane.Capture(joined: true), "rx_popped");
            Assert.IsTrue(pane.WaitFor(lines => Total(lines, "rx_popped") != second, TimeSpan.FromSeconds(5)), "a third frame\n" + Show(pane));

            pane.SendKeys("C-c");
            Assert.IsTrue(WaitForExit(pane) == 0, "Ctrl-C ends the watch with exit code 0\n" + Show(pane));
        }
        finally
        {
            await traffic.CancelAsync();
            await counting;
        }

        string[] joined = pane.Capture(joined: true);
        foreach (string line in joined)
            Assert.IsLessThanOrEqualTo(width, line.TrimEnd().GetCellWidth(), $"a line wider than the pane (tmux joined what it wrapped): '{line}'\n" + Show(pane));
        Assert.AreEqual(1, joined.Count(l => l.TrimStart().StartsWith("counter", StringComparison.Ordinal)),
            "one header: each frame is drawn over the last, none scrolled into the history\n" + Show(pane));
        Assert.IsLessThanOrEqualTo(height + 1, joined.Length, "nothing scrolled into the history\n" + Show(pane));

        string raw = pane.Raw();
        int frames = Regex.Matches(raw, Regex.Escape("\u001b[H")).Count;
        Assert.IsGreaterThanOrEqualTo(3, frames, "each frame starts at the cursor home\n" + Escaped(raw));
        int clear = raw.IndexOf(FullScreenClear, StringComparison.Ordinal);
        int secondFrame = raw.IndexOf("\u001b[H", raw.IndexOf("\u001b[H", StringComparison.Ordinal) + 1, StringComparison.Ordinal);
        Assert.IsTrue(clear < 0 || (clear < secondFrame && raw.IndexOf(FullScreenClear, clear + 1, StringComparison.Ordinal) < 0),
            "no full-screen clear after the first frame (it would flicker)\n" + Escaped(raw));
        Assert.IsGreaterThan(raw.LastIndexOf(HideCursor, StringComparison.Ordinal), raw.LastIndexOf(ShowCursor, StringComparison.Ordinal),
            "the cursor is shown again at the end\n" + Escaped(raw));
    }

    [TestMethod]
    [DataRow(80)]
    [DataRow(60)]
    public async Task LatencyFitsThePane(int width)
    {
        await using var server = await ControlServerFixture.StartAsync();
        using var pane = TmuxPane.Start(width, 40, LabEnvironment.Dotnet, LabEnvironment.DaemonDll, "latency", "--socket", server.SocketPath);

        Assert.AreEqual(0, WaitForExit(pane), Show(pane));
        string[] joined = pane.Capture(joined: true);
        foreach (string line in joined)
            Assert.IsLessThanOrEqualTo(width, line.TrimEnd().GetCellWidth(), $"a line wider than the pane (tmux joined what it wrapped): '{line}'\n" + Show(pane));
        string? row = joined.FirstOrDefault(l => l.Contains("16000", StringComparison.Ordinal));
        Assert.IsNotNull(row, "the chain's row\n" + Show(pane));
        StringAssert.Contains(row, "8.2 us", "p50 of the chain with its unit\n" + Show(pane));
        Assert.DoesNotContain(FullScreenClear, pane.Raw());
    }

    [TestMethod]
    [DataRow("stats --watch --interval 200ms", "INT")]
    [DataRow("stats --watch --interval 200ms", "TERM")]
    [DataRow("stats", "INT")]
    [DataRow("latency", "INT")]
    public async Task IntoAPipeNoEscapeCodes(string command, string signal)
    {
        await using var server = await ControlServerFixture.StartAsync();
        var start = new ProcessStartInfo("timeout") { RedirectStandardOutput = true, RedirectStandardError = true };
        // The signal after 3 s ends the watch (exit 0, as Ctrl-C or a kill would); the single asks end on their own.
        foreach (string arg in (string[])["--preserve-status", "-s", signal, "3", LabEnvironment.Dotnet, LabEnvironment.DaemonDll, .. command.Split(' '), "--socket", server.SocketPath])
            start.ArgumentList.Add(arg);
        // A terminal type that has colours and cursor movement: only the output being a pipe may keep them out.
        start.Environment["TERM"] = "xterm-256color";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.AreEqual(0, process.ExitCode, await error);
        Assert.DoesNotContain("\u001b", output, "escape codes in a pipe:\n" + output.Replace("\u001b", "\\e"));
        foreach (string line in output.Split('\n'))
            Assert.IsLessThanOrEqualTo(TerminalSize.DefaultWidth, line.GetCellWidth(), line);
        if (command.Contains("--watch", StringComparison.Ordinal))
            Assert.IsGreaterThanOrEqualTo(2, output.Split("\n\n").Length, "frame after frame:\n" + output);
    }

    /// <summary>The rate column (the last field) of a counter's row in the latest frame; null when not shown.</summary>
    private static string? Rate(string[] lines, string counter) =>
        lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .LastOrDefault(f => f.Length >= 3 && f[0] == counter)?[^1];

    private static string? Total(string[] lines, string counter) =>
        lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .LastOrDefault(f => f.Length >= 3 && f[0] == counter)?[1];

    private static int? WaitForExit(TmuxPane pane)
    {
        for (int i = 0; i < 200; i++)
        {
            if (pane.ExitStatus() is { } status)
                return status;
            Thread.Sleep(50);
        }
        return null;
    }

    private static string Show(TmuxPane pane) => "pane:\n" + string.Join('\n', pane.Capture(joined: true));

    private static string Escaped(string raw) => "raw output:\n" + raw.Replace("\u001b", "\\e");
}
