using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SfcProxy.Control;

/// <summary>Answer lines: one JSON object and a newline, <c>"ok"</c> first.</summary>
internal static class ControlAnswer
{
    /// <summary>A wire DTO, written by its source-generated serializer.</summary>
    public static byte[] Of<T>(T answer, JsonTypeInfo<T> type)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
            JsonSerializer.Serialize(json, answer, type);
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Error(string message) => Of(new ErrorAnswer(message), ControlJsonContext.Default.ErrorAnswer);

    /// <summary><c>{"ok":true,...}</c> with the properties <paramref name="writeBody"/> writes: for the
    /// answers whose shape follows the module's model (policy, DSR status, latency histograms).</summary>
    public static byte[] Ok(Action<Utf8JsonWriter> writeBody) => Line(json =>
    {
        json.WriteBoolean("ok", true);
        writeBody(json);
    });

    /// <summary>An answer line with the properties <paramref name="writeProperties"/> writes, "ok" included.</summary>
    public static byte[] Line(Action<Utf8JsonWriter> writeProperties)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            writeProperties(json);
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
