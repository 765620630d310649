using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Control;
using SfcProxy.Hosting;

namespace SfcProxy.Proxy;

/// <summary>
/// The SFC proxy's control requests: <c>stats</c>, <c>cache</c>, <c>cache-dump</c>, <c>histograms</c>
/// and <c>flush</c> (root only). Its metric families are <see cref="ProxyMetrics"/>.
/// </summary>
/// <param name="logger">The control server's: control events keep one logger category whichever module answers.</param>
internal sealed partial class ProxyControl(IOptions<SfcProxyOptions> options, IProxyDatapath datapath, ILogger<ControlServer> logger)
    : IControlModule
{
    /// <summary>
    /// A cache dump holds up to <see cref="ControlProtocol.MaxDumpLimit"/> entries in memory while it
    /// is written; this many at a time bounds that across all sessions (others wait their turn).
    /// </summary>
    private const int ConcurrentDumps = 4;

    private readonly SemaphoreSlim _dumps = new(ConcurrentDumps);

    public IReadOnlyList<ControlRequestRule> Requests { get; } =
    [
        new(ControlProtocol.Stats),
        new(ControlProtocol.Cache),
        new(ControlProtocol.CacheDump),
        new(ControlProtocol.Histograms),
        new(ControlProtocol.Flush, NeedsRoot: true),
    ];

    public async Task AnswerAsync(ControlCall call, CancellationToken cancellationToken)
    {
        if (call.Name == ControlProtocol.CacheDump)
        {
            await WriteCacheDumpAsync(call.Request.Limit ?? ControlProtocol.DefaultDumpLimit, call.Output, cancellationToken);
            return;
        }
        call.Answer(call.Name switch
        {
            ControlProtocol.Stats => ControlAnswer.Of(new StatsAnswer(Counters()), ProxyJsonContext.Default.StatsAnswer),
            ControlProtocol.Cache => ControlAnswer.Of(new CacheAnswer(datapath.ReadCacheSummary()), ProxyJsonContext.Default.CacheAnswer),
            ControlProtocol.Histograms => ControlAnswer.Of(LatencyAnswer.From(datapath.ReadLatency()), ProxyJsonContext.Default.LatencyAnswer),
            _ => Flush(call.Peer),
        });
    }

    public InstanceStatus DescribeStatus(InstanceStatus status)
    {
        var o = options.Value;
        return status with
        {
            Encapsulations = [.. o.Encapsulations.Select(OptionValues.Encapsulations.NameOf)],
            KeyMode = OptionValues.KeyModes.NameOf(o.KeyMode),
            MissPolicy = OptionValues.MissPolicies.NameOf(o.MissPolicy),
            XdpMode = OptionValues.XdpModes.NameOf(o.XdpMode),
            ConsumedSegments = o.ConsumedSegments,
            Interfaces = new InstanceInterfaces(o.Interfaces.Ingress, o.Interfaces.Egress, o.Interfaces.Vnf),
        };
    }

    private Dictionary<string, ulong> Counters()
    {
        var counters = datapath.ReadCounters();
        return CounterNames.All.ToDictionary(CounterNames.Of, c => counters.TryGetValue(c, out ulong value) ? value : 0);
    }

    private byte[] Flush(PeerCredentials peer)
    {
        int flushed = datapath.FlushCache();
        LogFlushed(flushed, peer.Uid, peer.Pid);
        return ControlAnswer.Of(new FlushAnswer(flushed), ProxyJsonContext.Default.FlushAnswer);
    }

    private async Task WriteCacheDumpAsync(int limit, SessionOutput output, CancellationToken cancellationToken)
    {
        await _dumps.WaitAsync(cancellationToken);
        try
        {
            var entries = datapath.DumpCache(limit);

            // A CacheDumpAnswer written straight into the session's output and pushed out in chunks:
            // a 10,000-entry answer never sits in memory as one string.
            await using var json = new Utf8JsonWriter(output.Writer);
            json.WriteStartObject();
            json.WriteBoolean("ok", true);
            json.WriteString("keyMode", OptionValues.KeyModes.NameOf(options.Value.KeyMode));
            json.WriteNumber("count", entries.Count);
            json.WriteStartArray("entries");
            foreach (var entry in entries)
            {
                JsonSerializer.Serialize(json, CacheDumpEntry.From(entry), ProxyJsonContext.Default.CacheDumpEntry);
                if (json.BytesPending + output.Writer.UnflushedBytes >= SessionOutput.ChunkBytes)
                {
                    await json.FlushAsync(cancellationToken);
                    await output.FlushAsync();
                }
            }
            json.WriteEndArray();
            json.WriteEndObject();
            await json.FlushAsync(cancellationToken);
            output.Write("\n"u8);
        }
        finally
        {
            _dumps.Release();
        }
    }

    [LoggerMessage(EventId = EventIds.CacheFlushed, Level = LogLevel.Warning, Message = "Header cache flushed: {Entries} entries deleted (by uid {Uid}, pid {Pid})")]
    private partial void LogFlushed(int entries, uint uid, int pid);
}
