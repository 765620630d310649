using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace SfcProxy.Cli;

/// <summary>Text that must fit a screen width, measured in terminal cells (Spectre.Console's measure).</summary>
internal static class ScreenText
{
    private const string Ellipsis = "…";

    /// <summary>
    /// <paramref name="renderable"/> laid out by Spectre.Console within <paramref name="width"/>
    /// columns (a table shrinks or wraps its cells to fit), as plain lines without escape codes.
    /// </summary>
    public static List<string> Lines(IRenderable renderable, int width)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        console.Write(renderable);
        return [.. writer.ToString().TrimEnd('\n').Split('\n').Select(l => l.TrimEnd())];
    }

    /// <summary>
    /// <paramref name="line"/> cut to at most <paramref name="width"/> cells, its last cell an ellipsis
    /// when cut: a line one cell wider than the terminal would wrap and push the frame down a row.
    /// </summary>
    public static string Fit(string line, int width)
    {
        if (line.GetCellWidth() <= width)
            return line;
        var fitted = new StringBuilder();
        int cells = 0;
        foreach (var rune in line.EnumerateRunes())
        {
            string text = rune.ToString();
            int w = text.GetCellWidth();
            if (cells + w > width - 1)
                break;
            fitted.Append(text);
            cells += w;
        }
        return fitted.Append(Ellipsis).ToString();
    }
}
