using System.CommandLine;
using System.Text.Json;
using SfcProxy.Control;
using Spectre.Console;

namespace SfcProxy.Cli;

/// <summary>`sfcproxy log-level LEVEL`: change a running instance's minimum log level (root only).</summary>
internal static class LogLevelCommand
{
    public static Command Create()
    {
        var level = new Argument<string>("level") { Description = string.Join("|", ControlProtocol.LogLevels) };
        level.CompletionSources.Add(ControlProtocol.LogLevels);
        return new InstanceQuery(
                parseResult => new ControlRequest { Name = ControlProtocol.LogLevel, Level = parseResult.GetValue(level) },
                Render)
            .CreateCommand("log-level", "Change the minimum log level of a running instance until it restarts (root only)", level);
    }

    private static void Render(JsonElement answer, IAnsiConsole console, TextWriter output)
    {
        var change = answer.Deserialize(ControlJsonContext.Default.LogLevelAnswer)!;
        output.WriteLine($"log level {change.Previous} -> {change.Level}");
    }
}
