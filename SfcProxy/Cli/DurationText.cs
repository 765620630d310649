using System.CommandLine.Parsing;
using SfcProxy.Configuration;

namespace SfcProxy.Cli;

/// <summary>Durations on the command line, read like the config file's (<see cref="Durations"/>).</summary>
internal static class DurationText
{
    public static bool TryParse(string text, out TimeSpan value) => Durations.TryParse(text, out value);

    /// <summary>A System.CommandLine parser for a positive duration option.</summary>
    public static TimeSpan ParsePositive(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (TryParse(text, out var value) && value > TimeSpan.Zero)
            return value;
        result.AddError($"'{text}' is not a positive duration like 500ms, 1s or 2m");
        return default;
    }
}
