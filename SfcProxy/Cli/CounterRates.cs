using System.Globalization;

namespace SfcProxy.Cli;

/// <summary>Per-second rates of monotonic counters between two reads.</summary>
internal static class CounterRates
{
    /// <summary>
    /// Each counter's increase over <paramref name="elapsed"/>, per second. Null where there is no
    /// rate to give: the first read (no <paramref name="before"/>), a counter not in the earlier
    /// read, one that went down (the instance restarted and its counters began again: the increase
    /// is unknown, and a negative or huge rate would be a lie), or no time elapsed.
    /// </summary>
    public static Dictionary<string, double?> PerSecond(IReadOnlyDictionary<string, ulong>? before, IReadOnlyDictionary<string, ulong> after, TimeSpan elapsed) =>
        after.ToDictionary(c => c.Key, c =>
            before is not null && before.TryGetValue(c.Key, out ulong old) && c.Value >= old && elapsed > TimeSpan.Zero
                ? (c.Value - old) / elapsed.TotalSeconds
                : (double?)null);

    /// <summary>"12,345.6", or "-" when there is no rate.</summary>
    public static string Text(double? rate) => rate is { } r ? r.ToString("N1", CultureInfo.InvariantCulture) : "-";
}
