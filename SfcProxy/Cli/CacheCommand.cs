using System.CommandLine;
using System.Text.Json;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>`sfcproxy cache`: header cache occupancy of a running instance.</summary>
internal static class CacheCommand
{
    public static Command Create() =>
        new InstanceQuery(ControlProtocol.Cache, Render)
            .CreateCommand("cache", "Show how full the header cache of a running instance is");

    private static void Render(JsonElement answer, IAnsiConsole console)
    {
        var cache = answer.GetProperty("cache");
        long entries = cache.GetProperty("entries").GetInt64();
        long capacity = cache.GetProperty("capacity").GetInt64();
        double percent = capacity == 0 ? 0 : 100.0 * entries / capacity;
        KeyValueTable.Write(console,
            ("key mode", cache.GetProperty("keyMode").ToString()),
            ("entries", $"{entries:N0}"),
            ("capacity", $"{capacity:N0}"),
            ("used", $"{percent:0.0} %"));
    }
}
