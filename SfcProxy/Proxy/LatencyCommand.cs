using System.CommandLine;
using System.Text.Json;
using SfcProxy.Cli;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Proxy;

/// <summary>
/// `sfcproxy latency`: how long the VNF holds packets (pop at ingress to restore at egress), per
/// encapsulation and per chain, with the non-empty log2 buckets as bars.
/// </summary>
internal static class LatencyCommand
{
    public static Command Create() =>
        new InstanceQuery(ControlProtocol.Histograms, Render)
            .CreateCommand("latency", "Show how long the VNF holds packets: log2 histograms per encapsulation and chain");

    private static void Render(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var latency = answer.GetProperty("latency");
        var summary = new Table().Border(TableBorder.Rounded)
            .AddColumn("encap").AddColumn("chain")
            .AddColumn(new TableColumn("packets").RightAligned())
            .AddColumn(new TableColumn("p50").RightAligned())
            .AddColumn(new TableColumn("p90").RightAligned())
            .AddColumn(new TableColumn("p99").RightAligned());
        foreach (var e in latency.GetProperty("encapsulations").EnumerateArray())
            AddRow(summary, e, "all");
        foreach (var c in latency.GetProperty("chains").EnumerateArray())
            AddRow(summary, c, c.GetProperty("chain").GetUInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
        console.Write(summary);
        if (latency.TryGetProperty("sampleEvery", out var every) && every.GetUInt32() > 1)
            console.MarkupLine($"[grey]packets: a sample, 1 in {every.GetUInt32():N0} per CPU (LatencySampleEvery)[/]");

        foreach (var e in latency.GetProperty("encapsulations").EnumerateArray())
        {
            var chart = new BarChart().Label($"{e.GetProperty("encap")}: time in the VNF").Width(72);
            var buckets = e.GetProperty("buckets").EnumerateArray().Select(b => b.GetUInt64()).ToArray();
            for (var i = 0; i < buckets.Length; i++)
            {
                if (buckets[i] != 0)
                    chart.AddItem(LatencyHistogram.FormatBucket(i), buckets[i], Color.Green);
            }
            console.Write(chart);
        }
    }

    private static void AddRow(Table table, JsonElement h, string chain) =>
        table.AddRow(h.GetProperty("encap").ToString(), chain, $"{h.GetProperty("count").GetUInt64():N0}",
            Ns(h, "p50Ns"), Ns(h, "p90Ns"), Ns(h, "p99Ns"));

    private static string Ns(JsonElement h, string name) =>
        h.GetProperty(name) is { ValueKind: JsonValueKind.Number } v ? "≤ " + LatencyHistogram.FormatNs(v.GetUInt64()) : "-";
}
