using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SfcProxy.Control;

/// <summary>
/// One request line, the wire contract of both sides: the CLI serializes it (<see cref="ControlJsonContext"/>),
/// the server parses it with <see cref="TryParse"/>, which checks every argument's type and range in
/// this one place; the module that answers the request reads the arguments it takes.
/// </summary>
internal sealed record ControlRequest
{
    [JsonPropertyName("request")]
    public required string Name { get; init; }
    /// <summary>cache-dump: entries to list, 1..<see cref="ControlProtocol.MaxDumpLimit"/>.</summary>
    public int? Limit { get; init; }
    /// <summary>log-level: one of <see cref="ControlProtocol.LogLevels"/>, any case.</summary>
    public string? Level { get; init; }
    /// <summary>policy-check: source address, as sent (checked by the module).</summary>
    public string? Src { get; init; }
    /// <summary>policy-check: destination address.</summary>
    public string? Dst { get; init; }
    /// <summary>policy-check: protocol name or number. The wire names policy-check's protocol "proto"
    /// and dsr-backend's "protocol", each request reading only its own (as it always has; unifying
    /// the spelling would change the protocol for existing clients).</summary>
    public string? Proto { get; init; }
    /// <summary>dsr-backend: the service's protocol, tcp or udp.</summary>
    public string? Protocol { get; init; }
    /// <summary>policy-check: destination port; dsr-backend: the service's port.</summary>
    public int? Port { get; init; }
    /// <summary>dsr-backend: "add", "remove" or "weight".</summary>
    public string? Action { get; init; }
    /// <summary>dsr-backend: the service's VIP.</summary>
    public string? Vip { get; init; }
    /// <summary>dsr-backend: the backend's address.</summary>
    public string? Address { get; init; }
    /// <summary>dsr-backend: the weight.</summary>
    public int? Weight { get; init; }

    /// <summary>The answer to a request whose strings are not valid text.</summary>
    public const string InvalidText = "the request is not valid text: a string holds invalid UTF-8 or a lone surrogate escape (\\ud800-\\udfff)";

    /// <returns>false with the error to answer when the line is not a request.</returns>
    public static bool TryParse(ReadOnlySequence<byte> line, out ControlRequest request, out string error)
    {
        request = null!;
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("request", out var name)
                || name.ValueKind != JsonValueKind.String)
            {
                error = "expected an object like {\"request\":\"stats\"}";
                return false;
            }

            int? limit = null;
            if (root.TryGetProperty("limit", out var limitProperty))
            {
                if (limitProperty.ValueKind != JsonValueKind.Number || !limitProperty.TryGetInt32(out int l) || l is < 1 or > ControlProtocol.MaxDumpLimit)
                {
                    error = $"\"limit\" must be a whole number 1..{ControlProtocol.MaxDumpLimit}";
                    return false;
                }
                limit = l;
            }

            string? level = null;
            if (root.TryGetProperty("level", out var levelProperty))
            {
                if (levelProperty.ValueKind != JsonValueKind.String)
                {
                    error = "\"level\" must be a string";
                    return false;
                }
                level = levelProperty.GetString();
            }

            if (!TryGetText(root, "src", out string? src, out error) || !TryGetText(root, "dst", out string? dst, out error)
                || !TryGetText(root, "proto", out string? proto, out error) || !TryGetText(root, "protocol", out string? protocol, out error))
                return false;
            if (!TryGetText(root, "action", out string? action, out error) || !TryGetText(root, "vip", out string? vip, out error)
                || !TryGetText(root, "address", out string? address, out error))
                return false;
            int? weight = null;
            if (root.TryGetProperty("weight", out var weightProperty))
            {
                if (weightProperty.ValueKind != JsonValueKind.Number || !weightProperty.TryGetInt32(out int w) || w is < 0 or > 65535)
                {
                    error = "\"weight\" must be a whole number 0..65535";
                    return false;
                }
                weight = w;
            }
            int? port = null;
            if (root.TryGetProperty("port", out var portProperty))
            {
                if (portProperty.ValueKind != JsonValueKind.Number || !portProperty.TryGetInt32(out int p) || p is < 0 or > ushort.MaxValue)
                {
                    error = "\"port\" must be a whole number 0..65535";
                    return false;
                }
                port = p;
            }

            request = new ControlRequest
            {
                Name = name.GetString()!, Limit = limit, Level = level,
                Src = src, Dst = dst, Proto = proto, Protocol = protocol, Port = port,
                Action = action, Vip = vip, Address = address, Weight = weight,
            };
            error = "";
            return true;
        }
        catch (JsonException e)
        {
            error = $"malformed JSON: {e.Message}";
            return false;
        }
        catch (InvalidOperationException)
        {
            // JsonDocument checks the structure, not the text of strings: reading a string with
            // invalid UTF-8 or a lone surrogate escape ("\ud800") throws here.
            error = InvalidText;
            return false;
        }
    }

    /// <summary>An optional string argument (a number is taken as its text: "proto":6).</summary>
    private static bool TryGetText(JsonElement root, string name, out string? value, out string error)
    {
        value = null;
        error = "";
        if (!root.TryGetProperty(name, out var property))
            return true;
        if (property.ValueKind == JsonValueKind.String)
            value = property.GetString();
        else if (property.ValueKind == JsonValueKind.Number)
            value = property.GetRawText();
        else
        {
            error = $"\"{name}\" must be a string";
            return false;
        }
        return true;
    }
}
