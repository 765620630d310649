using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
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
                parseResult => new JsonObject { ["request"] = ControlProtocol.CacheDump, ["limit"] = parseResult.GetValue(limit) },
                RenderEntries)
            .CreateCommand("ls", "List cached header sets: key, encapsulation, age, refs and the header", limit);
    }

    private static void RenderSummary(JsonElement answer, IAnsiConsole console, TextWriter output)
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

    private static void RenderEntries(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("key")
            .AddColumn("encap")
            .AddColumn(new TableColumn("age").RightAligned())
            .AddColumn(new TableColumn("refs").RightAligned())
            .AddColumn("header");
        foreach (var entry in answer.GetProperty("entries").EnumerateArray())
        {
            table.AddRow(
                Markup.Escape(entry.GetProperty("key").ToString()),
                Markup.Escape(entry.GetProperty("encap").ToString()),
                $"{entry.GetProperty("ageMs").GetInt64().ToString("N0", CultureInfo.InvariantCulture)} ms",
                entry.GetProperty("refs").ToString(),
                Markup.Escape(Header(entry)));
        }
        console.Write(table);
        console.WriteLine($"{answer.GetProperty("count").GetInt32()} entries ({answer.GetProperty("keyMode")} keys)");
    }

    /// <summary>MPLS: the label stack top first; NSH: the decoded fields (the hex is in --json).</summary>
    private static string Header(JsonElement entry)
    {
        if (entry.TryGetProperty("nsh", out var nsh))
        {
            return $"spi {nsh.GetProperty("spi")} si {nsh.GetProperty("si")} ttl {nsh.GetProperty("ttl")} " +
                   $"md{nsh.GetProperty("mdType")} {nsh.GetProperty("length")} B next {nsh.GetProperty("nextProtocol")}";
        }
        return string.Join(' ', entry.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
    }

    private static void RenderFlush(JsonElement answer, IAnsiConsole console, TextWriter output) =>
        output.WriteLine($"flushed {answer.GetProperty("flushed").GetInt32()} entries");
}
