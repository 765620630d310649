using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>A two-column name/value table for single-object answers.</summary>
internal static class KeyValueTable
{
    public static void Write(IAnsiConsole console, params (string Name, string Value)[] rows)
    {
        var table = new Table().Border(TableBorder.Rounded).HideHeaders().AddColumn("name").AddColumn("value");
        foreach (var (name, value) in rows)
            table.AddRow(Markup.Escape(name), Markup.Escape(value));
        console.Write(table);
    }
}
