using System.Text.Json;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace SfcProxy.Policy;

/// <summary>
/// A policy file as a plain tree (maps, lists, scalars), the same whether it was JSON or YAML, so
/// one reader checks both and names fields the same way.
/// </summary>
internal abstract record PolicyNode
{
    /// <summary>What the node is, for "expected a list, got a map" errors.</summary>
    public abstract string Kind { get; }

    /// <summary>Parses the file by its extension (.json; .yaml or .yml).</summary>
    /// <exception cref="PolicyFormatException">The text is not valid JSON/YAML, or the extension is unknown.</exception>
    public static PolicyNode Parse(string path, string text)
    {
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".json" => FromJson(text),
            ".yaml" or ".yml" => FromYaml(text),
            _ => throw new PolicyFormatException($"unknown file type '{extension}' (use .json, .yaml or .yml)"),
        };
    }

    private static PolicyNode FromJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions
            {
                CommentHandling = JsonCommentHandling.Skip,
                AllowTrailingCommas = true,
            });
            return FromJson(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new PolicyFormatException($"not valid JSON (line {e.LineNumber + 1}): {FirstSentence(e.Message)}");
        }
    }

    private static PolicyNode FromJson(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var entries = new List<KeyValuePair<string, PolicyNode>>();
                foreach (var property in element.EnumerateObject())
                {
                    if (entries.Any(e => e.Key == property.Name))
                        throw new PolicyFormatException($"not valid JSON: duplicate key '{property.Name}'");
                    entries.Add(new(property.Name, FromJson(property.Value)));
                }
                return new MapNode(entries);
            case JsonValueKind.Array:
                return new ListNode(element.EnumerateArray().Select(FromJson).ToList());
            case JsonValueKind.String:
                return new ScalarNode(element.GetString());
            case JsonValueKind.Null:
                return new ScalarNode(null);
            default:
                return new ScalarNode(element.GetRawText());
        }
    }

    private static PolicyNode FromYaml(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            string message = e.InnerException is { } inner ? inner.Message : e.Message;
            throw new PolicyFormatException($"not valid YAML (line {e.Start.Line}): {FirstSentence(message)}");
        }
        if (stream.Documents.Count == 0)
            return new ScalarNode(null);
        if (stream.Documents.Count > 1)
            throw new PolicyFormatException("not valid here: one YAML document per policy file");
        return FromYaml(stream.Documents[0].RootNode);
    }

    private static PolicyNode FromYaml(YamlNode node) => node switch
    {
        YamlMappingNode map => new MapNode(map.Children.Select(c => new KeyValuePair<string, PolicyNode>(
            c.Key is YamlScalarNode key ? key.Value ?? "" : throw new PolicyFormatException($"not valid here (line {c.Key.Start.Line}): map keys must be plain names"),
            FromYaml(c.Value))).ToList()),
        YamlSequenceNode list => new ListNode(list.Children.Select(FromYaml).ToList()),
        // A plain "~", "null" or nothing is YAML's null; a quoted one is the text.
        YamlScalarNode scalar when scalar.Style is ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" => new ScalarNode(null),
        YamlScalarNode scalar => new ScalarNode(scalar.Value),
        _ => throw new PolicyFormatException($"not valid here (line {node.Start.Line}): aliases are not supported"),
    };

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message.TrimEnd('.') : message[..end];
    }
}

internal sealed record MapNode(IReadOnlyList<KeyValuePair<string, PolicyNode>> Entries) : PolicyNode
{
    public override string Kind => "a map";

    public PolicyNode? this[string key] => Entries.FirstOrDefault(e => e.Key == key).Value;
}

internal sealed record ListNode(IReadOnlyList<PolicyNode> Items) : PolicyNode
{
    public override string Kind => "a list";
}

/// <summary>A scalar as text (JSON numbers and booleans keep their literal text); null is null.</summary>
internal sealed record ScalarNode(string? Text) : PolicyNode
{
    public override string Kind => Text is null ? "null" : $"'{Text}'";
}

/// <summary>A policy file that is not JSON/YAML at all (as opposed to valid text with bad fields).</summary>
internal sealed class PolicyFormatException(string message) : Exception(message);
