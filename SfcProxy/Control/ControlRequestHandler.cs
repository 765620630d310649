using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using SfcProxy.Configuration;
using SfcProxy.Hosting;
using SfcProxy.Policy;
using SfcProxy.Proxy;

namespace SfcProxy.Control;

/// <summary>Answers request lines of the control protocol. Never throws for bad input.</summary>
/// <param name="policy">The policy module; null when the instance runs without one (policy requests then say so).</param>
internal sealed partial class ControlRequestHandler(
    SfcProxyOptions options, IProxyDatapath datapath, TimeProvider time, long startTimestamp,
    LogLevelSwitch logLevel, ILogger logger, ActivePolicy? policy = null, SfcProxy.Dsr.ActiveDsr? dsr = null)
{
    /// <summary>
    /// A cache dump holds up to <see cref="ControlProtocol.MaxDumpLimit"/> entries in memory while it
    /// is written; this many at a time bounds that across all sessions (others wait their turn).
    /// </summary>
    private const int ConcurrentDumps = 4;

    private readonly SemaphoreSlim _dumps = new(ConcurrentDumps);
    private readonly LogThrottle _badText = new(TimeSpan.FromSeconds(10), time);

    /// <summary>Writes the answer to <paramref name="line"/>, newline included, into <paramref name="output"/>.</summary>
    public async Task AnswerAsync(ReadOnlySequence<byte> line, PeerCredentials peer, SessionOutput output, CancellationToken cancellationToken)
    {
        if (!ControlRequest.TryParse(line, out var request, out string error))
        {
            if (error == ControlRequest.InvalidText && _badText.ShouldLog(out var unlogged))
                LogInvalidText(peer.Uid, peer.Pid, unlogged);
            output.Write(Error(error));
            return;
        }
        string name = request.Name;
        if (!ControlProtocol.Requests.Contains(name))
        {
            output.Write(Error($"unknown request '{name}' (accepted: {string.Join(", ", ControlProtocol.Requests)})"));
            return;
        }
        if (ControlProtocol.NeedsRoot(name) && !peer.IsRoot)
        {
            LogRefused(name, peer.Uid, peer.Pid);
            output.Write(Error($"{name} needs root ({peer})"));
            return;
        }
        if (name == ControlProtocol.CacheDump)
        {
            await WriteCacheDumpAsync(request.Limit, output, cancellationToken);
            return;
        }

        byte[] answer;
        try
        {
            answer = name switch
            {
                ControlProtocol.Stats => Respond(WriteStats),
                ControlProtocol.Cache => Respond(WriteCache),
                ControlProtocol.Status => Respond(WriteStatus),
                ControlProtocol.Metrics => Respond(WriteMetrics),
                ControlProtocol.Histograms => Respond(json => LatencyJson.Write(json, datapath.ReadLatency())),
                ControlProtocol.Flush => Respond(json => Flush(json, peer)),
                ControlProtocol.PolicyStatus => WithPolicy(name, p => PolicyStatus(p)),
                ControlProtocol.PolicyApply => WithPolicy(name, p => ApplyPolicy(p, peer)),
                ControlProtocol.PolicyCheck => WithPolicy(name, p => CheckPolicy(p, request)),
                ControlProtocol.DsrStatus => WithDsr(name, d => Respond(json => DsrJson.WriteStatus(json, d))),
                ControlProtocol.DsrBackend => WithDsr(name, d => ChangeDsrBackend(d, request, peer)),
                _ => SetLogLevel(request.Level, peer),
            };
        }
        catch (Exception e)
        {
            // A datapath read failing (map gone, not attached) is the instance's problem, not the
            // client's; report it on this line and keep serving.
            answer = Error($"{name} unavailable: {e.Message}");
        }
        output.Write(answer);
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
        json.WriteString("logLevel", logLevel.Minimum.ToString());
        json.WriteNumber("uptimeSeconds", UptimeSeconds);
        json.WriteEndObject();
    }

    private void WriteMetrics(Utf8JsonWriter json) =>
        json.WriteString("metrics", PrometheusText.Write(options.Instance, datapath.ReadCounters(), datapath.ReadCacheSummary(), UptimeSeconds, dsr));

    private void Flush(Utf8JsonWriter json, PeerCredentials peer)
    {
        int flushed = datapath.FlushCache();
        LogFlushed(flushed, peer.Uid, peer.Pid);
        json.WriteNumber("flushed", flushed);
    }

    private byte[] WithPolicy(string name, Func<ActivePolicy, byte[]> answer) =>
        policy is null
            ? Error($"{name}: the policy module is not enabled on this instance (SfcProxy:Policy:Files is empty)")
            : answer(policy);

    private byte[] WithDsr(string name, Func<SfcProxy.Dsr.ActiveDsr, byte[]> answer) =>
        dsr is null
            ? Error($"{name}: the DSR load balancer is not enabled on this instance (SfcProxy:Dsr:Services is empty)")
            : answer(dsr);

    private byte[] ChangeDsrBackend(SfcProxy.Dsr.ActiveDsr active, ControlRequest request, PeerCredentials peer)
    {
        if (DsrJson.ParseBackendChange(request, out string error) is not { } change)
            return Error($"{ControlProtocol.DsrBackend}: {error}");
        LogDsrBackendRequested(change.Action, change.Address.ToString(), peer.Uid, peer.Pid);
        var result = change.Action switch
        {
            "add" => active.AddBackend(change.Vip, change.Port, change.Protocol, change.Address, change.Weight ?? 1),
            "remove" => active.RemoveBackend(change.Vip, change.Port, change.Protocol, change.Address),
            _ => active.SetWeight(change.Vip, change.Port, change.Protocol, change.Address, change.Weight!.Value),
        };
        if (!result.Applied)
            return Error($"{ControlProtocol.DsrBackend}: not applied, the tables in force are unchanged: {result.Error}");
        return Respond(json => DsrJson.WriteStatus(json, active));
    }

    private static byte[] PolicyStatus(ActivePolicy active)
    {
        if (active.Current is not { } current)
            return Error($"{ControlProtocol.PolicyStatus}: no policy applied yet");
        var hits = active.RuleHits();
        return Respond(json => PolicyJson.WriteStatus(json, current, hits));
    }

    private byte[] ApplyPolicy(ActivePolicy active, PeerCredentials peer)
    {
        LogPolicyApplyRequested(peer.Uid, peer.Pid);
        var result = active.Apply();
        if (result.Applied)
            return Respond(json => PolicyJson.WriteApplied(json, result));
        return Line(json =>
        {
            json.WriteBoolean("ok", false);
            json.WriteString("error", $"policy not applied, the policy in force is unchanged: {result.Errors.Count} error(s): " +
                                      string.Join("; ", result.Errors));
            json.WriteStartArray("errors");
            foreach (string error in result.Errors)
                json.WriteStringValue(error);
            json.WriteEndArray();
        });
    }

    private static byte[] CheckPolicy(ActivePolicy active, ControlRequest request)
    {
        if (PolicyCheck.TryCreate(request.Src, request.Dst, request.Proto, request.Port, out string error) is not { } check)
            return Error($"{ControlProtocol.PolicyCheck}: {error}");
        var result = active.Check(check.Source, check.Destination, check.Protocol, check.Port);
        var current = active.Current;
        return Respond(json => PolicyJson.WriteCheck(json, check, result, current, PolicyJson.FromDatapath));
    }

    private byte[] SetLogLevel(string? requested, PeerCredentials peer)
    {
        string? level = ControlProtocol.LogLevels.FirstOrDefault(l => string.Equals(l, requested, StringComparison.OrdinalIgnoreCase));
        if (level is null)
            return Error($"\"level\" must be one of {string.Join(", ", ControlProtocol.LogLevels)}");
        var previous = logLevel.Minimum;
        var next = Enum.Parse<LogLevel>(level);
        // Logged before a raise and after a lowering, so the change is on record at either level.
        if (next > previous)
            LogLevelChanged(previous, next, peer.Uid, peer.Pid);
        logLevel.Minimum = next;
        if (next <= previous)
            LogLevelChanged(previous, next, peer.Uid, peer.Pid);
        return Respond(json =>
        {
            json.WriteString("previous", previous.ToString());
            json.WriteString("level", next.ToString());
        });
    }

    private async Task WriteCacheDumpAsync(int limit, SessionOutput output, CancellationToken cancellationToken)
    {
        await _dumps.WaitAsync(cancellationToken);
        try
        {
            IReadOnlyList<CacheEntryView> entries;
            try
            {
                entries = datapath.DumpCache(limit);
            }
            catch (Exception e)
            {
                output.Write(Error($"{ControlProtocol.CacheDump} unavailable: {e.Message}"));
                return;
            }

            // Written straight into the session's output and pushed out in chunks: a 10,000-entry
            // answer never sits in memory as one string.
            await using var json = new Utf8JsonWriter(output.Writer);
            json.WriteStartObject();
            json.WriteBoolean("ok", true);
            json.WriteString("keyMode", OptionValues.KeyModes.NameOf(options.KeyMode));
            json.WriteNumber("count", entries.Count);
            json.WriteStartArray("entries");
            foreach (var entry in entries)
            {
                CacheEntryJson.Write(json, entry);
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

    private double UptimeSeconds => Math.Round(time.GetElapsedTime(startTimestamp).TotalSeconds, 3);

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

    [LoggerMessage(EventId = 210, Level = LogLevel.Warning, Message = "Refused control request {Request} from uid {Uid} (pid {Pid}): needs root")]
    private partial void LogRefused(string request, uint uid, int pid);

    [LoggerMessage(EventId = 211, Level = LogLevel.Warning, Message = "Header cache flushed: {Entries} entries deleted (by uid {Uid}, pid {Pid})")]
    private partial void LogFlushed(int entries, uint uid, int pid);

    [LoggerMessage(EventId = 213, Level = LogLevel.Warning, Message = "Policy apply requested (by uid {Uid}, pid {Pid})")]
    private partial void LogPolicyApplyRequested(uint uid, int pid);

    [LoggerMessage(EventId = 214, Level = LogLevel.Warning, Message = "DSR backend {Action} {Backend} requested (by uid {Uid}, pid {Pid})")]
    private partial void LogDsrBackendRequested(string action, string backend, uint uid, int pid);

    [LoggerMessage(EventId = 212, Level = LogLevel.Warning, Message = "Log level changed from {Previous} to {Level} (by uid {Uid}, pid {Pid})")]
    private partial void LogLevelChanged(LogLevel previous, LogLevel level, uint uid, int pid);

    [LoggerMessage(EventId = EventIds.BadRequestText, Level = LogLevel.Information,
        Message = "Control client uid {Uid} (pid {Pid}) sent a request that is not valid text (invalid UTF-8 or a lone surrogate); answered with an error ({Unlogged} more since the last such line)")]
    private partial void LogInvalidText(uint uid, int pid, int unlogged);
}
