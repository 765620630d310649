using System.Text;
using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>
/// Where a `--watch` command draws its frames. On a terminal each frame is written over the last:
/// cursor home, each line overwritten and cleared to its end, the rows below the frame cleared. The
/// whole screen is cleared once, before the first frame (and again only if the terminal is
/// resized), never per frame, so nothing flickers. The cursor is hidden while it runs and shown
/// again by <see cref="Dispose"/>. Anywhere else (a pipe, a file) each frame is printed in full as
/// plain text, frames separated by a blank line, with no escape codes.
/// </summary>
/// <remarks>
/// Not Spectre.Console's Live display: it erases every line of the last frame before it writes the
/// next one, and a frame taller than the terminal loses its top rows (the first counters).
/// </remarks>
internal sealed class WatchScreen : IDisposable
{
    private const string Csi = "\u001b[";
    private const string ClearScreen = Csi + "2J";
    private const string CursorHome = Csi + "H";
    private const string ClearToLineEnd = Csi + "K";
    private const string ClearBelow = Csi + "J";
    private const string HideCursor = Csi + "?25l";
    private const string ShowCursor = Csi + "?25h";

    private readonly TextWriter _output;
    private readonly bool _terminal;
    private (int Width, int Height)? _drawnAt;
    private bool _drawn;

    public WatchScreen(TextWriter output, bool terminal)
    {
        _output = output;
        _terminal = terminal;
    }

    public static WatchScreen For(TextWriter output) => new(output, TerminalSize.IsTerminal(output));

    /// <summary>What a frame must fit: the terminal now, or <see cref="TerminalSize.DefaultWidth"/> columns and no row limit.</summary>
    public (int Width, int Height) Size => _terminal ? TerminalSize.Current : (TerminalSize.DefaultWidth, int.MaxValue);

    /// <summary>Draws one frame; lines past the height or width of <see cref="Size"/> are cut.</summary>
    public void Draw(IReadOnlyList<string> lines)
    {
        var size = Size;
        _output.Write(_terminal ? InPlace(lines, size) : Plain(lines, size.Width));
        _output.Flush();
        _drawn = true;
    }

    private string Plain(IReadOnlyList<string> lines, int width)
    {
        var frame = new StringBuilder();
        if (_drawn)
            frame.Append('\n');
        foreach (string line in lines)
            frame.Append(ScreenText.Fit(line, width)).Append('\n');
        return frame.ToString();
    }

    private string InPlace(IReadOnlyList<string> lines, (int Width, int Height) size)
    {
        var frame = new StringBuilder();
        if (_drawnAt != size)
            frame.Append(HideCursor).Append(ClearScreen);
        _drawnAt = size;
        frame.Append(CursorHome);
        int rows = Math.Min(lines.Count, size.Height);
        for (int i = 0; i < rows; i++)
        {
            string line = ScreenText.Fit(lines[i], size.Width);
            frame.Append(line);
            // A full-width line needs no clearing, and must not get it: the cursor waits on its last
            // cell, which "clear to the end of the line" would erase.
            if (line.GetCellWidth() < size.Width)
                frame.Append(ClearToLineEnd);
            // No line break after a frame as tall as the screen: it would scroll the first row away.
            if (i < rows - 1 || rows < size.Height)
                frame.Append("\r\n");
        }
        if (rows < size.Height)
            frame.Append(ClearBelow);
        return frame.ToString();
    }

    /// <summary>Leaves the last frame on screen, the cursor shown below it.</summary>
    public void Dispose()
    {
        if (!_terminal || !_drawn)
            return;
        _output.Write("\r\n" + ShowCursor);
        _output.Flush();
    }
}
