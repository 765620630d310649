using System.Globalization;

namespace SfcProxy.Configuration;

/// <summary>
/// Durations as people write them, the same in the config file and on the command line: "500ms",
/// "5s", "1.5s", "2m", "1h", or a TimeSpan with colons ("00:00:05"). A bare number is refused: it
/// has no unit, and TimeSpan would read "5" as five days.
/// </summary>
internal static class Durations
{
    public const string Examples = "\"500ms\", \"5s\", \"2m\" or \"00:00:05\"";

    private static readonly (string Suffix, double Milliseconds)[] Units = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)];

    public static bool TryParse(string text, out TimeSpan value)
    {
        text = text.Trim();
        foreach (var (suffix, unit) in Units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && !(suffix == "s" && text.EndsWith("ms", StringComparison.Ordinal))
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out double n)
                && n >= 0 && double.IsFinite(n) && n * unit < TimeSpan.MaxValue.TotalMilliseconds)
            {
                value = TimeSpan.FromMilliseconds(n * unit);
                return true;
            }
        }
        value = default;
        return text.Contains(':') && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
    }

    /// <summary>"250ms", "1.5s", "2m", "1h", else "00:01:30": the way it would be written.</summary>
    public static string Format(TimeSpan value) =>
        value.TotalMilliseconds < 1000 ? $"{value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms"
        : value.TotalSeconds < 60 ? $"{value.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s"
        : value.Ticks % TimeSpan.TicksPerHour == 0 ? $"{(long)value.TotalHours}h"
        : value.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{(long)value.TotalMinutes}m"
        : value.ToString("c", CultureInfo.InvariantCulture);
}
