using System.Text.Json;
using SfcProxy.Configuration;
using SfcProxy.Proxy;

namespace SfcProxy.Proxy;

/// <summary>
/// The answer to <c>{"request":"histograms"}</c>: time spent in the VNF (pop to restore), per
/// encapsulation and per chain (MPLS top label, NSH SPI), as log2 buckets of nanoseconds: bucket i
/// counts [2^i, 2^(i+1)) ns. The counts are a sample of one packet in sampleEvery per CPU.
/// </summary>
internal static class LatencyJson
{
    public static void Write(Utf8JsonWriter json, LatencyReport report)
    {
        json.WriteStartObject("latency");
        json.WriteNumber("chainCapacity", report.ChainCapacity);
        json.WriteNumber("sampleEvery", report.SampleEvery);
        json.WriteStartArray("encapsulations");
        foreach (var e in report.Encapsulations)
        {
            json.WriteStartObject();
            json.WriteString("encap", OptionValues.Encapsulations.NameOf(e.Encapsulation));
            json.WriteNumber("chains", e.Chains);
            WriteHistogram(json, e.Histogram);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("chains");
        foreach (var c in report.Chains)
        {
            json.WriteStartObject();
            json.WriteString("encap", OptionValues.Encapsulations.NameOf(c.Encapsulation));
            json.WriteNumber("chain", c.Chain);
            WriteHistogram(json, c.Histogram);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteHistogram(Utf8JsonWriter json, LatencyHistogram h)
    {
        json.WriteNumber("count", h.Count);
        WriteOptional(json, "p50Ns", h.P50Ns);
        WriteOptional(json, "p90Ns", h.P90Ns);
        WriteOptional(json, "p99Ns", h.P99Ns);
        json.WriteStartArray("buckets");
        foreach (var b in h.Buckets)
            json.WriteNumberValue(b);
        json.WriteEndArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, ulong? value)
    {
        if (value is { } v)
            json.WriteNumber(name, v);
        else
            json.WriteNull(name);
    }
}
