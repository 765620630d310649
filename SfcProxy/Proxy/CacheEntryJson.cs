using System.Text.Json;
using SfcProxy.Proxy;

namespace SfcProxy.Proxy;

/// <summary>The wire form of one cache-dump entry.</summary>
internal static class CacheEntryJson
{
    public static void Write(Utf8JsonWriter json, CacheEntryView entry)
    {
        json.WriteStartObject();
        json.WriteString("key", entry.Key);
        json.WriteString("encap", entry.Encapsulation);
        json.WriteNumber("ageMs", entry.AgeMs);
        json.WriteNumber("refs", entry.Refs);
        if (entry.Nsh is { } nsh)
        {
            json.WriteStartObject("nsh");
            json.WriteNumber("spi", nsh.Spi);
            json.WriteNumber("si", nsh.Si);
            json.WriteNumber("ttl", nsh.Ttl);
            json.WriteNumber("mdType", nsh.MdType);
            json.WriteNumber("length", nsh.Length);
            json.WriteNumber("nextProtocol", nsh.NextProtocol);
            json.WriteString("hex", nsh.Hex);
            json.WriteEndObject();
        }
        else
        {
            json.WriteStartArray("labels");
            foreach (string label in entry.Labels)
                json.WriteStringValue(label);
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }
}
