using System.Text.Json.Serialization;

namespace SfcProxy.Proxy;

/// <summary>
/// The answer to <c>cache-dump</c>. The server streams it entry by entry (a 10,000-entry answer never
/// sits in memory as one string), each entry through the same serializer; the CLI reads it whole.
/// </summary>
internal sealed record CacheDumpAnswer(string KeyMode, int Count, IReadOnlyList<CacheDumpEntry> Entries)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}

/// <summary>The wire form of one cache entry: the NSH header, or the MPLS labels (top first).</summary>
internal sealed record CacheDumpEntry(
    string Key, string Encap, long AgeMs, uint Refs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] NshHeaderView? Nsh,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Labels,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Srv6HeaderView? Srv6 = null)
{
    public static CacheDumpEntry From(CacheEntryView entry) =>
        new(entry.Key, entry.Encapsulation, entry.AgeMs, entry.Refs, entry.Nsh,
            entry.Nsh is null && entry.Srv6 is null ? entry.Labels : null, entry.Srv6);
}
