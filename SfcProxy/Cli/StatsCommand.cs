using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using SfcProxy.Control;
using SfcProxy.Proxy;
using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>`sfcproxy stats [--watch [--interval 1s]]`: the datapath counters of a running instance.</summary>
internal static class StatsCommand
{
    /// <summary>Counter name prefix -> the program that counts it.</summary>
    private static readonly Dictionary<string, string> Groups = new()
    {
        ["rx"] = "xdp_rx (ingress, pop)",
        ["tx"] = "tc_tx (egress, push)",
        ["mark"] = "meta_mark (tc ingress)",
        ["labels"] = "label entries",
        ["nsh"] = "nsh",
    };

    public static Command Create()
    {
        var watch = new Option<bool>("--watch", "-w") { Description = "Ask again every interval and redraw in place with per-second rates; Ctrl-C ends" };
        var interval = new Option<TimeSpan>("--interval")
        {
            Description = "Time between two asks with --watch (500ms, 1s, 2m)",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(1),
            CustomParser = DurationText.ParsePositive,
        };
        var query = new InstanceQuery(ControlProtocol.Stats, (answer, console, _) => console.Write(Table(answer)));
        var command = query.CreateBareCommand("stats", "Show the datapath counters of a running instance", watch, interval);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            if (!parseResult.GetValue(watch))
            {
                using var answer = await query.AskAsync(parseResult, cancellationToken);
                if (answer is not null)
                    query.Print(parseResult, answer);
                return answer?.Ok == true ? ExitCodes.Ok : ExitCodes.Failed;
            }
            return await WatchAsync(query, parseResult, parseResult.GetValue(interval), cancellationToken);
        });
        return command;
    }

    private static async Task<int> WatchAsync(InstanceQuery query, ParseResult parseResult, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Ctrl-C (or a kill) ends the watch and leaves the last frame on screen with the cursor shown
        // again, instead of killing the process mid-draw.
        void End(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, End);
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, End);
        var output = parseResult.InvocationConfiguration.Output;
        bool json = query.Json(parseResult);
        using var screen = WatchScreen.For(output);
        Dictionary<string, ulong>? previous = null;
        long previousAt = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                using (var answer = await query.AskAsync(parseResult, stop.Token))
                {
                    if (answer is null || !answer.Ok)
                    {
                        if (answer is not null)
                            query.Print(parseResult, answer);
                        return ExitCodes.Failed;
                    }
                    long now = Stopwatch.GetTimestamp();
                    var counters = Counters(answer.Root);
                    if (json)
                    {
                        // One answer per line (JSON Lines), for scripts.
                        output.WriteLine(answer.Line);
                    }
                    else
                    {
                        var rates = CounterRates.PerSecond(previous, counters, Stopwatch.GetElapsedTime(previousAt, now));
                        var (width, height) = screen.Size;
                        string title = $"sfcproxy stats, every {IntervalText(interval)}, {DateTime.Now:HH:mm:ss} (Ctrl-C ends)";
                        screen.Draw(StatsFrame.Lines(title, counters, rates, width, height));
                    }
                    (previous, previousAt) = (counters, now);
                }
                await Task.Delay(interval, stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        return ExitCodes.Ok;
    }

    private static string IntervalText(TimeSpan interval) =>
        interval.TotalSeconds >= 1 && interval.Milliseconds == 0
            ? $"{interval.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s"
            : $"{interval.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms";

    private static Dictionary<string, ulong> Counters(JsonElement answer) =>
        answer.Deserialize(ProxyJsonContext.Default.StatsAnswer)!.Counters.ToDictionary();

    /// <summary>The single ask's table: every counter, grouped by the program that counts it.</summary>
    private static Table Table(JsonElement answer)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("group")
            .AddColumn("counter")
            .AddColumn(new TableColumn("value").RightAligned());
        var counters = Counters(answer).GroupBy(c => Groups.GetValueOrDefault(c.Key.Split('_')[0], "other"));
        bool first = true;
        foreach (var group in counters)
        {
            if (!first)
                table.AddEmptyRow();
            first = false;
            string label = group.Key;
            foreach (var counter in group)
            {
                table.AddRow(Markup.Escape(label), Markup.Escape(counter.Key), counter.Value.ToString("N0", CultureInfo.InvariantCulture));
                label = "";
            }
        }
        return table;
    }
}
