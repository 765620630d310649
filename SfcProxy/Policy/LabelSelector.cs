namespace SfcProxy.Policy;

/// <summary>
/// The <c>from</c> or <c>to</c> of a rule: either <c>matchLabels</c> (an endpoint matches when it
/// carries every listed label; no labels selects every endpoint) or <c>reserved: world</c> (every
/// address no endpoint CIDR covers). World is never selected by <c>matchLabels</c>, not even an empty one.
/// </summary>
public sealed record LabelSelector
{
    private LabelSelector(IReadOnlyList<KeyValuePair<string, string>> matchLabels, bool world)
    {
        MatchLabels = matchLabels;
        IsWorld = world;
    }

    /// <summary>Selects <see cref="ReservedIdentity.World"/>.</summary>
    public static readonly LabelSelector World = new([], world: true);

    /// <summary>Selects the endpoints carrying all of <paramref name="labels"/>.</summary>
    public static LabelSelector Match(IEnumerable<KeyValuePair<string, string>> labels) =>
        new(labels.OrderBy(l => l.Key, StringComparer.Ordinal).ToArray(), world: false);

    public IReadOnlyList<KeyValuePair<string, string>> MatchLabels { get; }

    public bool IsWorld { get; }

    /// <summary>The selector as written: <c>reserved:world</c>, <c>{app=web}</c>, or <c>{}</c> (all endpoints).</summary>
    public override string ToString() =>
        IsWorld ? "reserved:world" : "{" + string.Join(',', MatchLabels.Select(l => $"{l.Key}={l.Value}")) + "}";

    public bool Equals(LabelSelector? other) => other is not null && ToString() == other.ToString();

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
