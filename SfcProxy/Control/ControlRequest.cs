using System.Buffers;
using System.Text.Json;

namespace SfcProxy.Control;

/// <summary>One parsed request line: its name and the arguments some requests take.</summary>
internal sealed record ControlRequest(string Name, int Limit, string? Level)
{
    /// <summary>policy-check: source address, as sent (checked by the handler).</summary>
    public string? Src { get; init; }
    /// <summary>policy-check: destination address.</summary>
    public string? Dst { get; init; }
    /// <summary>policy-check: protocol name or number.</summary>
    public string? Proto { get; init; }
    /// <summary>policy-check: destination port, 0 when not given.</summary>
    public int Port { get; init; }
    /// <summary>dsr-backend: "add", "remove" or "weight".</summary>
    public string? Action { get; init; }
    /// <summary>dsr-backend: the service's VIP.</summary>
    public string? Vip { get; init; }
    /// <summary>dsr-backend: "tcp" or "udp" (or 6 / 17).</summary>
    public string? Protocol { get; init; }
    /// <summary>dsr-backend: the backend's address.</summary>
    public string? Address { get; init; }
    /// <summary>dsr-backend: the weight, null when not given.</summary>
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

            int limit = ControlProtocol.DefaultDumpLimit;
            if (root.TryGetProperty("limit", out var limitProperty)
                && (limitProperty.ValueKind != JsonValueKind.Number || !limitProperty.TryGetInt32(out limit) || limit is < 1 or > ControlProtocol.MaxDumpLimit))
            {
                error = $"\"limit\" must be a whole number 1..{ControlProtocol.MaxDumpLimit}";
                return false;
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
                || !TryGetText(root, "proto", out string? proto, out error))
                return false;
            if (!TryGetText(root, "action", out string? action, out error) || !TryGetText(root, "vip", out string? vip, out error)
                || !TryGetText(root, "protocol", out string? protocol, out error) || !TryGetText(root, "address", out string? address, out error))
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
            int port = 0;
            if (root.TryGetProperty("port", out var portProperty)
                && (portProperty.ValueKind != JsonValueKind.Number || !portProperty.TryGetInt32(out port) || port is < 0 or > ushort.MaxValue))
            {
                error = "\"port\" must be a whole number 0..65535";
                return false;
            }

            request = new ControlRequest(name.GetString()!, limit, level) 
            {
                Src = src, Dst = dst, Proto = proto, Port = port,
                Action = action, Vip = vip, Protocol = protocol, Address = address, Weight = weight,
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
