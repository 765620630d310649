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
        var latency = answer.Deserialize(ProxyJsonContext.Default.LatencyAnswer)!.Latency;
        var summary = new Table().Border(TableBorder.Rounded)
            .AddColumn("encap").AddColumn("chain")
            .AddColumn(new TableColumn("packets").RightAligned())
            .AddColumn(new TableColumn("p50").RightAligned())
            .AddColumn(new TableColumn("p90").RightAligned())
            .AddColumn(new TableColumn("p99").RightAligned());
        foreach (var e in latency.Encapsulations)
            AddRow(summary, e.Encap, "all", e.Count, e.P50Ns, e.P90Ns, e.P99Ns);
        foreach (var c in latency.Chains)
            AddRow(summary, c.Encap, c.Chain.ToString(System.Globalization.CultureInfo.InvariantCulture), c.Count, c.P50Ns, c.P90Ns, c.P99Ns);
        console.Write(summary);
        if (latency.SampleEvery > 1)
            console.MarkupLine($"[grey]packets: a sample, 1 in {latency.SampleEvery:N0} per CPU (LatencySampleEvery)[/]");

        foreach (var e in latency.Encapsulations)
        {
            var chart = new BarChart().Label($"{e.Encap}: time in the VNF").Width(72);
            var buckets = e.Buckets;
            for (var i = 0; i < buckets.Count; i++)
            {
                if (buckets[i] != 0)
                    chart.AddItem(LatencyHistogram.FormatBucket(i), buckets[i], Color.Green);
            }
            console.Write(chart);
        }
    }

    private static void AddRow(Table table, string encap, string chain, ulong count, ulong? p50Ns, ulong? p90Ns, ulong? p99Ns) =>
        table.AddRow(encap, chain, $"{count:N0}", Ns(p50Ns), Ns(p90Ns), Ns(p99Ns));

    private static string Ns(ulong? ns) => ns is { } v ? "≤ " + LatencyHistogram.FormatNs(v) : "-";
}
