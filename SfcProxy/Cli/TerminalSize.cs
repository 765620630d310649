namespace SfcProxy.Cli;

/// <summary>Whether the CLI writes to a terminal, and its size: what the screen-sized output fits into.</summary>
internal static class TerminalSize
{
    /// <summary>The width when the output is no terminal (a pipe, a file) or the terminal does not say.</summary>
    public const int DefaultWidth = 80;

    private const int DefaultHeight = 24;

    /// <summary>True when <paramref name="output"/> is the process's stdout and that is a terminal.</summary>
    public static bool IsTerminal(TextWriter output) => ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;

    /// <summary>The terminal's columns and rows now (it may have been resized since the last frame).</summary>
    public static (int Width, int Height) Current
    {
        get
        {
            try
            {
                int width = Console.WindowWidth, height = Console.WindowHeight;
                return (width > 0 ? width : DefaultWidth, height > 0 ? height : DefaultHeight);
            }
            catch (IOException)
            {
                return (DefaultWidth, DefaultHeight);
            }
        }
    }
}
