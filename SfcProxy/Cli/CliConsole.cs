using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>Spectre.Console bound to the invocation's writer, so output can be captured and redirected.</summary>
internal static class CliConsole
{
    public static IAnsiConsole Create(TextWriter output) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(output),
        Ansi = AnsiSupport.Detect,
        ColorSystem = ColorSystemSupport.Detect,
    });
}
