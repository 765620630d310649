using System.CommandLine;
using System.Text.Json;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>`sfcproxy metrics`: the instance's counters in the Prometheus text format (for node_exporter's textfile collector and the like).</summary>
internal static class MetricsCommand
{
    public static Command Create() =>
        new InstanceQuery(ControlProtocol.Metrics, Render)
            .CreateCommand("metrics", "Print counters and cache gauges in the Prometheus text exposition format");

    // Written as is: a table or line wrapping would break the format.
    private static void Render(JsonElement answer, IAnsiConsole console, TextWriter output) =>
        output.Write(answer.Deserialize(ControlJsonContext.Default.MetricsAnswer)!.Metrics);
}
