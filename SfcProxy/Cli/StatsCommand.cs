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
        var watch = new Option<bool>("--watch", "-w") { Description = "Ask again every interval and show per-second rates; Ctrl-C ends" };
        var interval = new Option<TimeSpan>("--interval")
        {
            Description = "Time between two asks with --watch (500ms, 1s, 2m)",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(1),
            CustomParser = DurationText.ParsePositive,
        };
        var query = new InstanceQuery(ControlProtocol.Stats, (answer, console, _) => console.Write(Table(answer, rates: null)));
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
        // Ctrl-C ends the watch and leaves the last table on screen, instead of killing the process mid-draw.
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        var output = parseResult.InvocationConfiguration.Output;
        var console = CliConsole.Create(output);
        Dictionary<string, ulong>? previous = null;
        long previousAt = 0;
        var display = EmptyTable(withRates: true);
        bool json = query.Json(parseResult);

        async Task Loop(Action? refresh)
        {
            while (!stop.IsCancellationRequested)
            {
                using (var answer = await query.AskAsync(parseResult, stop.Token))
                {
                    if (answer is null || !answer.Ok)
                    {
                        if (answer is not null)
                            query.Print(parseResult, answer);
                        throw new OperationCanceledException("the instance did not answer");
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
                        var rates = previous is null ? null : Rates(previous, counters, Stopwatch.GetElapsedTime(previousAt, now));
                        Redraw(display, answer.Root, rates);
                        refresh!();
                    }
                    (previous, previousAt) = (counters, now);
                }
                await Task.Delay(interval, stop.Token);
            }
        }

        try
        {
            if (json)
                await Loop(null);
            else
                await console.Live(display).AutoClear(false).StartAsync(live => Loop(live.Refresh));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Failed;
        }
        return ExitCodes.Ok;
    }

    private static Dictionary<string, ulong> Counters(JsonElement answer) =>
        answer.Deserialize(ProxyJsonContext.Default.StatsAnswer)!.Counters.ToDictionary();

    private static Dictionary<string, double> Rates(Dictionary<string, ulong> before, Dictionary<string, ulong> after, TimeSpan elapsed) =>
        after.ToDictionary(c => c.Key, c =>
            before.TryGetValue(c.Key, out ulong old) && c.Value >= old && elapsed > TimeSpan.Zero
                ? (c.Value - old) / elapsed.TotalSeconds
                : 0);

    /// <summary>Live keeps showing the same table object, so a redraw replaces its contents.</summary>
    private static void Redraw(Table display, JsonElement answer, Dictionary<string, double>? rates)
    {
        var fresh = Table(answer, rates ?? new Dictionary<string, double>());
        display.Rows.Clear();
        foreach (var row in fresh.Rows)
            display.AddRow(row);
    }

    private static Table EmptyTable(bool withRates)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("group")
            .AddColumn("counter")
            .AddColumn(new TableColumn("value").RightAligned());
        if (withRates)
            table.AddColumn(new TableColumn("per second").RightAligned());
        return table;
    }

    /// <param name="rates">Per-second rates for --watch (empty on the first draw); null for a single ask.</param>
    private static Table Table(JsonElement answer, Dictionary<string, double>? rates)
    {
        var table = EmptyTable(withRates: rates is not null);
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
                string value = counter.Value.ToString("N0", CultureInfo.InvariantCulture);
                if (rates is null)
                    table.AddRow(Markup.Escape(label), Markup.Escape(counter.Key), value);
                else
                    table.AddRow(Markup.Escape(label), Markup.Escape(counter.Key), value,
                        rates.TryGetValue(counter.Key, out double rate) ? $"{rate.ToString("N1", CultureInfo.InvariantCulture)}/s" : "");
                label = "";
            }
        }
        return table;
    }
}
