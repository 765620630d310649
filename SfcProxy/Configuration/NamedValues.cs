namespace SfcProxy.Configuration;

/// <summary>
/// The spellings accepted in the config file for one enum ("header-hash" for KeyMode.HeaderHash).
/// The configuration binder cannot map kebab-case names to enums, so the binder uses these tables.
/// </summary>
internal sealed class NamedValues<T> where T : struct, Enum
{
    private readonly (string Name, T Value)[] _entries;

    public NamedValues(params (string Name, T Value)[] entries) => _entries = entries;

    /// <summary>The accepted names, quoted and comma separated, for error messages.</summary>
    public string Accepted => string.Join(", ", _entries.Select(e => $"'{e.Name}'"));

    public bool TryParse(string text, out T value)
    {
        foreach (var (name, v) in _entries)
        {
            if (string.Equals(name, text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                value = v;
                return true;
            }
        }
        value = default;
        return false;
    }

    public bool IsDefined(T value) => _entries.Any(e => EqualityComparer<T>.Default.Equals(e.Value, value));

    public string NameOf(T value) =>
        _entries.FirstOrDefault(e => EqualityComparer<T>.Default.Equals(e.Value, value)).Name ?? value.ToString();
}
