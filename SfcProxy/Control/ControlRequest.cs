using System.Buffers;
using System.Text.Json;

namespace SfcProxy.Control;

/// <summary>One parsed request line: its name and the arguments some requests take.</summary>
internal sealed record ControlRequest(string Name, int Limit, string? Level)
{
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

            request = new ControlRequest(name.GetString()!, limit, level);
            error = "";
            return true;
        }
        catch (JsonException e)
        {
            error = $"malformed JSON: {e.Message}";
            return false;
        }
    }
}
