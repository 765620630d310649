using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>`sfcproxy stats`: the datapath counters of a running instance.</summary>
internal static class StatsCommand
{
    /// <summary>Counter name prefix -> the program that counts it.</summary>
    private static readonly Dictionary<string, string> Groups = new()
    {
        ["rx"] = "xdp_rx (ingress, pop)",
        ["tx"] = "tc_tx (egress, push)",
        ["mark"] = "meta_mark (tc ingress)",
        ["labels"] = "label entries",
    };

    public static Command Create() =>
        new InstanceQuery(ControlProtocol.Stats, Render)
            .CreateCommand("stats", "Show the datapath counters of a running instance");

    private static void Render(JsonElement answer, IAnsiConsole console)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("group")
            .AddColumn("counter")
            .AddColumn(new TableColumn("value").RightAligned());

        var counters = answer.GetProperty("counters").EnumerateObject()
            .GroupBy(c => Groups.GetValueOrDefault(c.Name.Split('_')[0], "other"));
        bool first = true;
        foreach (var group in counters)
        {
            if (!first)
                table.AddEmptyRow();
            first = false;
            string label = group.Key;
            foreach (var counter in group)
            {
                string value = counter.Value.TryGetUInt64(out ulong v) ? v.ToString("N0", CultureInfo.InvariantCulture) : counter.Value.ToString();
                table.AddRow(Markup.Escape(label), Markup.Escape(counter.Name), value);
                label = "";
            }
        }
        console.Write(table);
    }
}
