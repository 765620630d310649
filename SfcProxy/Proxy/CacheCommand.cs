using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SfcProxy.Cli;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Proxy;

/// <summary>`sfcproxy cache [ls|flush]`: the header cache of a running instance.</summary>
internal static class CacheCommand
{
    public static Command Create()
    {
        var command = new InstanceQuery(ControlProtocol.Cache, RenderSummary)
            .CreateCommand("cache", "Show how full the header cache of a running instance is");
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(new InstanceQuery(ControlProtocol.Flush, RenderFlush)
            .CreateCommand("flush", "Delete every cached header set (root only); packets in flight then miss at egress"));
        return command;
    }

    private static Command CreateList()
    {
        var limit = new Option<int>("--limit", "-n")
        {
            Description = $"Entries to list (1..{ControlProtocol.MaxDumpLimit})",
            DefaultValueFactory = _ => ControlProtocol.DefaultDumpLimit,
        };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > ControlProtocol.MaxDumpLimit)
                result.AddError($"--limit must be 1..{ControlProtocol.MaxDumpLimit}");
        });
        return new InstanceQuery(
                parseResult => new ControlRequest { Name = ControlProtocol.CacheDump, Limit = parseResult.GetValue(limit) },
                RenderEntries)
            .CreateCommand("ls", "List cached header sets: key, encapsulation, age, refs and the header", limit);
    }

    private static void RenderSummary(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var cache = answer.Deserialize(ProxyJsonContext.Default.CacheAnswer)!.Cache;
        double percent = cache.Capacity == 0 ? 0 : 100.0 * cache.Entries / cache.Capacity;
        KeyValueTable.Write(console,
            ("key mode", cache.KeyMode),
            ("entries", $"{cache.Entries:N0}"),
            ("capacity", $"{cache.Capacity:N0}"),
            ("used", $"{percent:0.0} %"));
    }

    private static void RenderEntries(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("key")
            .AddColumn("encap")
            .AddColumn(new TableColumn("age").RightAligned())
            .AddColumn(new TableColumn("refs").RightAligned())
            .AddColumn("header");
        var dump = answer.Deserialize(ProxyJsonContext.Default.CacheDumpAnswer)!;
        foreach (var entry in dump.Entries)
        {
            table.AddRow(
                Markup.Escape(entry.Key),
                Markup.Escape(entry.Encap),
                $"{entry.AgeMs.ToString("N0", CultureInfo.InvariantCulture)} ms",
                entry.Refs.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(Header(entry)));
        }
        console.Write(table);
        console.WriteLine($"{dump.Count} entries ({dump.KeyMode} keys)");
    }

    /// <summary>MPLS: the label stack top first; NSH: the decoded fields (the hex is in --json).</summary>
    private static string Header(CacheDumpEntry entry) =>
        entry.Nsh is { } nsh
            ? $"spi {nsh.Spi} si {nsh.Si} ttl {nsh.Ttl} md{nsh.MdType} {nsh.Length} B next {nsh.NextProtocol}"
            : string.Join(' ', entry.Labels ?? []);

    private static void RenderFlush(JsonElement answer, IAnsiConsole console, TextWriter output) =>
        output.WriteLine($"flushed {answer.Deserialize(ProxyJsonContext.Default.FlushAnswer)!.Flushed} entries");
}
