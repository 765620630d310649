using System.CommandLine;
using System.Text.Json;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>`sfcproxy status`: what a running instance is and how long it has run.</summary>
internal static class StatusCommand
{
    public static Command Create() =>
        new InstanceQuery(ControlProtocol.Status, Render)
            .CreateCommand("status", "Show instance, mode, interfaces and uptime of a running instance");

    private static void Render(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var status = answer.Deserialize(ControlJsonContext.Default.StatusAnswer)!.Status;
        var uptime = TimeSpan.FromSeconds(Math.Floor(status.UptimeSeconds));
        var rows = new List<(string, string)>
        {
            ("instance", status.Instance),
            ("pid", status.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        // The SFC proxy's rows, when the instance runs it.
        if (status.KeyMode is not null)
        {
            var interfaces = status.Interfaces;
            rows.AddRange([
                ("encapsulations", string.Join(", ", status.Encapsulations ?? [])),
                ("key mode", status.KeyMode),
                ("miss policy", status.MissPolicy ?? ""),
                ("xdp mode", status.XdpMode ?? ""),
                ("consumed segments", status.ConsumedSegments?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""),
                ("ingress", interfaces?.Ingress ?? ""),
                ("egress", interfaces?.Egress ?? ""),
                ("vnf", interfaces?.Vnf ?? "(host stack)"),
            ]);
        }
        rows.Add(("log level", status.LogLevel ?? "?"));
        rows.Add(("uptime", uptime.ToString("c")));
        KeyValueTable.Write(console, [.. rows]);
    }
}
