using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace SfcProxy.Configuration;

/// <summary>
/// Reads typed values from one configuration section without ever throwing: a value that does not
/// convert is recorded as a failure naming its full path and the field keeps its default, so every
/// mistake in a file is reported in one go (ConfigurationBinder stops at the first).
/// </summary>
internal sealed class ConfigSectionReader(IConfigurationSection section, ICollection<string> failures)
{
    private readonly HashSet<string> _knownKeys = new(StringComparer.OrdinalIgnoreCase);

    public string Path => section.Path;

    /// <summary>A text field. Present but empty is a mistake, not "use the default": an empty name
    /// would otherwise quietly become the default one.</summary>
    public string? String(string key, string? fallback)
    {
        string? text = Scalar(key);
        if (text is null)
            return fallback;
        if (string.IsNullOrWhiteSpace(text))
        {
            failures.Add($"{section.Path}:{key}: empty; give a value or leave the field out");
            return fallback;
        }
        return text.Trim();
    }

    public int Int(string key, int fallback) =>
        Convert(key, fallback, "an integer",
            (string s, out int v) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v));

    public bool Bool(string key, bool fallback) =>
        Convert(key, fallback, "true or false", (string s, out bool v) => bool.TryParse(s, out v));

    public TimeSpan Duration(string key, TimeSpan fallback) =>
        Convert(key, fallback, $"a duration like {Durations.Examples} (a number needs its unit)", Durations.TryParse);

    public T Choice<T>(string key, T fallback, NamedValues<T> names) where T : struct, Enum =>
        Convert(key, fallback, $"one of {names.Accepted}", names.TryParse);

    /// <summary>This section's own value read as a name (an element of a list of names).</summary>
    public T OwnChoice<T>(T fallback, NamedValues<T> names) where T : struct, Enum
    {
        string? text = section.Value;
        if (!string.IsNullOrWhiteSpace(text) && names.TryParse(text.Trim(), out T value))
            return value;
        failures.Add($"{section.Path}: \"{text}\" is not one of {names.Accepted}");
        return fallback;
    }

    /// <summary>This section's own value as text (an element of a list of strings); "" when it is not one.</summary>
    public string OwnString()
    {
        if (section.Value is { } text)
            return text.Trim();
        failures.Add($"{section.Path}: expected a single value, got an object or list");
        return "";
    }

    /// <summary>A nested object; absent objects read as empty (every field keeps its default).</summary>
    public ConfigSectionReader Object(string key)
    {
        _knownKeys.Add(key);
        var child = section.GetSection(key);
        if (child.Value is { Length: > 0 })
            failures.Add($"{child.Path}: expected an object, got \"{child.Value}\"");
        return new ConfigSectionReader(child, failures);
    }

    /// <summary>The elements of an array, in order.</summary>
    public IEnumerable<ConfigSectionReader> Array(string key)
    {
        _knownKeys.Add(key);
        var child = section.GetSection(key);
        if (child.Value is { Length: > 0 })
            failures.Add($"{child.Path}: expected a list, got \"{child.Value}\"");
        // GetChildren orders "10" after "9": ConfigurationKeyComparer compares numeric keys as numbers.
        return child.GetChildren().Select(element => new ConfigSectionReader(element, failures)).ToList();
    }

    /// <summary>True when the key is written at all, even as an empty list or object.</summary>
    public bool IsPresent(string key) =>
        section.GetChildren().Any(child => string.Equals(child.Key, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>True when the key is present (with a value or children).</summary>
    public bool Has(string key)
    {
        var child = section.GetSection(key);
        return child.Value is not null || child.GetChildren().Any();
    }

    /// <summary>Records a failure when the field is absent (for fields whose default means nothing).</summary>
    public void Require(string key)
    {
        if (string.IsNullOrWhiteSpace(section.GetSection(key).Value) && !section.GetSection(key).GetChildren().Any())
            failures.Add($"{section.Path}:{key}: required");
    }

    /// <summary>Reports keys nobody asked for: a misspelt field would otherwise be silently ignored.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var child in section.GetChildren())
        {
            if (!_knownKeys.Contains(child.Key))
                failures.Add($"{child.Path}: unknown field (known fields: {string.Join(", ", _knownKeys)})");
        }
    }

    private delegate bool TryParse<T>(string text, out T value);

    private T Convert<T>(string key, T fallback, string expected, TryParse<T> parse)
    {
        string? text = Scalar(key);
        if (string.IsNullOrWhiteSpace(text))
            return fallback;
        if (parse(text.Trim(), out T value))
            return value;
        failures.Add($"{section.Path}:{key}: \"{text}\" is not {expected}");
        return fallback;
    }

    private string? Scalar(string key)
    {
        _knownKeys.Add(key);
        var child = section.GetSection(key);
        if (child.Value is null && child.GetChildren().Any())
            failures.Add($"{child.Path}: expected a single value, got an object or list");
        return child.Value;
    }
}
