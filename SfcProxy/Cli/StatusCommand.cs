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
        var status = answer.GetProperty("status");
        var interfaces = status.GetProperty("interfaces");
        string vnf = interfaces.GetProperty("vnf").ValueKind == JsonValueKind.Null ? "(host stack)" : interfaces.GetProperty("vnf").ToString();
        var uptime = TimeSpan.FromSeconds(Math.Floor(status.GetProperty("uptimeSeconds").GetDouble()));
        KeyValueTable.Write(console,
            ("instance", status.GetProperty("instance").ToString()),
            ("pid", status.GetProperty("pid").ToString()),
            ("encapsulations", string.Join(", ", status.GetProperty("encapsulations").EnumerateArray().Select(e => e.GetString()))),
            ("key mode", status.GetProperty("keyMode").ToString()),
            ("miss policy", status.GetProperty("missPolicy").ToString()),
            ("xdp mode", status.GetProperty("xdpMode").ToString()),
            ("consumed segments", status.GetProperty("consumedSegments").ToString()),
            ("ingress", interfaces.GetProperty("ingress").ToString()),
            ("egress", interfaces.GetProperty("egress").ToString()),
            ("vnf", vnf),
            ("log level", status.TryGetProperty("logLevel", out var level) ? level.ToString() : "?"),
            ("uptime", uptime.ToString("c")));
    }
}
