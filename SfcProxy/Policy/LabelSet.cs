namespace SfcProxy.Policy;

/// <summary>
/// The labels of an endpoint, <c>key=value</c> pairs with unique keys, kept sorted by key (ordinal).
/// Two endpoints with equal label sets share one identity. <see cref="ToString"/> is the canonical
/// form (<c>app=web,env=prod</c>) used to order sets when identities are numbered.
/// </summary>
public sealed class LabelSet : IEquatable<LabelSet>
{
    private readonly KeyValuePair<string, string>[] _labels;
    private readonly string _canonical;

    public LabelSet(IEnumerable<KeyValuePair<string, string>> labels)
    {
        _labels = labels.OrderBy(l => l.Key, StringComparer.Ordinal).ToArray();
        _canonical = string.Join(',', _labels.Select(l => $"{l.Key}={l.Value}"));
    }

    public static readonly LabelSet Empty = new([]);

    public IReadOnlyList<KeyValuePair<string, string>> Labels => _labels;

    /// <summary>True when every label of <paramref name="required"/> is in this set with the same value.</summary>
    public bool Contains(IReadOnlyList<KeyValuePair<string, string>> required)
    {
        foreach (var (key, value) in required)
        {
            if (!TryGetValue(key, out string? own) || own != value)
                return false;
        }
        return true;
    }

    public bool TryGetValue(string key, out string? value)
    {
        foreach (var label in _labels)
        {
            if (label.Key == key)
            {
                value = label.Value;
                return true;
            }
        }
        value = null;
        return false;
    }

    public bool Equals(LabelSet? other) => other is not null && _canonical == other._canonical;

    public override bool Equals(object? obj) => Equals(obj as LabelSet);

    public override int GetHashCode() => _canonical.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => _canonical;
}
