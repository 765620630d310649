using System.CommandLine.Parsing;
using System.Globalization;

namespace SfcProxy.Cli;

/// <summary>Durations on the command line: "500ms", "1s", "1.5s", "2m", or a TimeSpan like "00:00:05".</summary>
internal static class DurationText
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        text = text.Trim();
        foreach (var (suffix, unit) in new[] { ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0) })
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out double n)
                && n >= 0)
            {
                value = TimeSpan.FromMilliseconds(n * unit);
                return true;
            }
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }

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
