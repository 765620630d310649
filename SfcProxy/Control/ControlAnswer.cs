using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SfcProxy.Control;

/// <summary>Answer lines: one wire DTO (<c>"ok"</c> first) and a newline.</summary>
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
}
