using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>Spectre.Console bound to the invocation's writer, so output can be captured and redirected.</summary>
internal static class CliConsole
{
    /// <summary>
    /// On a terminal, Spectre detects colours and the width itself. Anywhere else (a pipe, a file,
    /// a test's writer) the output is plain text, no escape codes whatever TERM says, laid out for
    /// <see cref="TerminalSize.DefaultWidth"/> columns rather than the width of some other terminal.
    /// </summary>
    public static IAnsiConsole Create(TextWriter output)
    {
        bool terminal = TerminalSize.IsTerminal(output);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        if (!terminal)
            console.Profile.Width = TerminalSize.DefaultWidth;
        return console;
    }
}
