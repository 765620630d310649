namespace SfcProxy.Metrics;

/// <summary>
/// Which series of a labelled family one scrape set, so the ones it did not set can be removed:
/// a backend taken out, a chain evicted from the latency map, a rule gone. Without this a series
/// would stay in the exposition with its last value forever.
/// </summary>
internal sealed class ScrapedSeries
{
    private Dictionary<string, string[]> _previous = new(StringComparer.Ordinal);
    private Dictionary<string, string[]> _current = new(StringComparer.Ordinal);

    /// <summary>Marks a series (its label values) as set in this scrape.</summary>
    public void Saw(string[] labels) => _current[Key(labels)] = labels;

    /// <summary>Ends the scrape: the series set in the previous one and not in this one.</summary>
    public IReadOnlyList<string[]> End()
    {
        var gone = _previous.Where(p => !_current.ContainsKey(p.Key)).Select(p => p.Value).ToList();
        (_previous, _current) = (_current, _previous);
        _current.Clear();
        return gone;
    }

    /// <summary>Label values can hold any text but not NUL (the exposition format cannot carry it either).</summary>
    public static string Key(string[] labels) => string.Join('\0', labels);
}
