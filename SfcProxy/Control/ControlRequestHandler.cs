using System.Buffers;
using System.Text.Json;
using SfcProxy.Configuration;
using SfcProxy.Proxy;

namespace SfcProxy.Control;

/// <summary>Answers one request line of the control protocol. Never throws for bad input.</summary>
internal sealed class ControlRequestHandler(
    SfcProxyOptions options, IProxyDatapath datapath, TimeProvider time, long startTimestamp)
{
    /// <summary>The response line for <paramref name="line"/>, newline included.</summary>
    public byte[] Handle(ReadOnlySequence<byte> line)
    {
        string request;
        try
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty("request", out var requestProperty)
                || requestProperty.ValueKind != JsonValueKind.String)
                return Error("expected an object like {\"request\":\"stats\"}");
            request = requestProperty.GetString()!;
        }
        catch (JsonException e)
        {
            return Error($"malformed JSON: {e.Message}");
        }

        try
        {
            return request switch
            {
                ControlProtocol.Stats => Respond(WriteStats),
                ControlProtocol.Cache => Respond(WriteCache),
                ControlProtocol.Status => Respond(WriteStatus),
                _ => Error($"unknown request '{request}' (accepted: {string.Join(", ", ControlProtocol.Requests)})"),
            };
        }
        catch (Exception e)
        {
            // A datapath read failing (map gone, not attached) is the instance's problem, not the
            // client's; report it on this line and keep serving.
            return Error($"{request} unavailable: {e.Message}");
        }
    }

    private void WriteStats(Utf8JsonWriter json)
    {
        var counters = datapath.ReadCounters();
        json.WriteStartObject("counters");
        foreach (var counter in CounterNames.All)
            json.WriteNumber(CounterNames.Of(counter), counters.TryGetValue(counter, out ulong value) ? value : 0);
        json.WriteEndObject();
    }

    private void WriteCache(Utf8JsonWriter json)
    {
        var cache = datapath.ReadCacheSummary();
        json.WriteStartObject("cache");
        json.WriteString("keyMode", cache.KeyMode);
        json.WriteNumber("entries", cache.Entries);
        json.WriteNumber("capacity", cache.Capacity);
        json.WriteEndObject();
    }

    private void WriteStatus(Utf8JsonWriter json)
    {
        json.WriteStartObject("status");
        json.WriteString("instance", options.Instance);
        json.WriteNumber("pid", Environment.ProcessId);
        json.WriteStartArray("encapsulations");
        foreach (var encap in options.Encapsulations)
            json.WriteStringValue(OptionValues.Encapsulations.NameOf(encap));
        json.WriteEndArray();
        json.WriteString("keyMode", OptionValues.KeyModes.NameOf(options.KeyMode));
        json.WriteString("missPolicy", OptionValues.MissPolicies.NameOf(options.MissPolicy));
        json.WriteString("xdpMode", OptionValues.XdpModes.NameOf(options.XdpMode));
        json.WriteNumber("consumedSegments", options.ConsumedSegments);
        json.WriteStartObject("interfaces");
        json.WriteString("ingress", options.Interfaces.Ingress);
        json.WriteString("egress", options.Interfaces.Egress);
        json.WriteString("vnf", options.Interfaces.Vnf);
        json.WriteEndObject();
        json.WriteNumber("uptimeSeconds", Math.Round(time.GetElapsedTime(startTimestamp).TotalSeconds, 3));
        json.WriteEndObject();
    }

    private static byte[] Respond(Action<Utf8JsonWriter> writeBody) => Line(json =>
    {
        json.WriteBoolean("ok", true);
        writeBody(json);
    });

    internal static byte[] Error(string message) => Line(json =>
    {
        json.WriteBoolean("ok", false);
        json.WriteString("error", message);
    });

    private static byte[] Line(Action<Utf8JsonWriter> writeProperties)
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
