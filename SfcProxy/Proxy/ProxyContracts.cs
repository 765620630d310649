using System.Text.Json;
using System.Text.Json.Serialization;

namespace SfcProxy.Proxy;

/// <summary>The answer to <c>stats</c>: every datapath counter by its wire name (<see cref="CounterNames"/>), in the C header's order.</summary>
internal sealed record StatsAnswer(IReadOnlyDictionary<string, ulong> Counters)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}

/// <summary>The answer to <c>cache</c>: how full the header cache is.</summary>
internal sealed record CacheAnswer(CacheSummary Cache)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}

/// <summary>The answer to <c>flush</c>: how many header sets were deleted.</summary>
internal sealed record FlushAnswer(int Flushed)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}

/// <summary>The SFC proxy's wire shapes (source-generated serializers, shared by the control socket and the CLI).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StatsAnswer))]
[JsonSerializable(typeof(CacheAnswer))]
[JsonSerializable(typeof(FlushAnswer))]
[JsonSerializable(typeof(CacheDumpAnswer))]
[JsonSerializable(typeof(LatencyAnswer))]
internal sealed partial class ProxyJsonContext : JsonSerializerContext;
