using System.Globalization;
using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>
/// One frame of `sfcproxy stats --watch`: a title line, then each counter with its total and its
/// rate per second over the last interval, fitted to the screen. Columns without borders, so a
/// frame read from a pipe splits on whitespace: counter, total, rate ("-" on the first frame).
/// </summary>
internal static class StatsFrame
{
    private const int TotalWidth = 17;
    private const int RateWidth = 13;

    /// <summary>Counter name prefix, in the order the programs see a packet; the rest (details) last.</summary>
    private static readonly string[] GroupOrder = ["rx", "tx", "mark", "labels", "nsh"];

    /// <summary>
    /// The frame's lines, at most <paramref name="width"/> cells wide and <paramref name="height"/>
    /// rows tall. When every counter does not fit, the counters at zero give way first (a line says
    /// how many), then the last rows (a line says how many): what moves stays on screen.
    /// </summary>
    public static List<string> Lines(string title, IReadOnlyDictionary<string, ulong> counters, IReadOnlyDictionary<string, double?> rates,
        int width, int height)
    {
        var rows = counters.OrderBy(c => Group(c.Key)).ToList(); // stable: the instance's order within a group
        const int titleAndHeader = 2;
        string? note = null;
        if (titleAndHeader + rows.Count > height)
        {
            int zeros = rows.Count(c => c.Value == 0);
            rows = [.. rows.Where(c => c.Value != 0)];
            note = $"{zeros} counters at 0 not shown";
        }
        int room = height - titleAndHeader - (note is null ? 0 : 1);
        if (rows.Count > room)
        {
            int keep = Math.Max(note is null ? room - 1 : room, 0); // a line for the note when it is new
            int cut = rows.Count - keep;
            rows = rows[..^cut];
            note = note is null ? $"{cut} more counters not shown" : $"{note}, {cut} more not shown";
        }

        var table = new Table().Border(TableBorder.None)
            .AddColumn(new TableColumn("counter").PadLeft(0))
            // Fixed widths (up to a petapacket, 100 million a second), so the columns stay put from frame to frame.
            .AddColumn(new TableColumn("total").RightAligned().Width(TotalWidth))
            .AddColumn(new TableColumn("per second").RightAligned().Width(RateWidth));
        foreach (var (name, value) in rows)
            table.AddRow(Markup.Escape(name), value.ToString("N0", CultureInfo.InvariantCulture), CounterRates.Text(rates.GetValueOrDefault(name)));

        var lines = new List<string> { title };
        lines.AddRange(ScreenText.Lines(table, width));
        if (note is not null)
            lines.Add($"({note}: a taller terminal shows them)");
        return [.. lines.Take(height).Select(l => ScreenText.Fit(l, width))];
    }

    private static int Group(string counter)
    {
        int index = Array.IndexOf(GroupOrder, counter.Split('_')[0]);
        return index < 0 ? GroupOrder.Length : index;
    }
}
