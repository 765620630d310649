using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SfcProxy.Configuration;

namespace SfcProxy.Dsr;

/// <summary>
/// The answer to <c>dsr-status</c> and to an applied <c>dsr-backend</c>: services with their packets,
/// backends with weight, state and packets (removing backends also with their connection entries,
/// "flows"), and the datapath counters. Packets and bytes are the client's IPv4 packets.
/// </summary>
internal sealed record DsrStatusAnswer(DsrStatusBody Dsr)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;

    /// <summary>Wire name of a datapath counter ("conn-hit").</summary>
    public static string CounterName(DsrCounter counter) => JsonNamingPolicy.KebabCaseLower.ConvertName(counter.ToString());

    public static DsrStatusAnswer From(ActiveDsr dsr)
    {
        var removing = dsr.ReadRemoving();
        var live = dsr.LiveChanges;
        var tables = dsr.Tables;
        var datapath = dsr.Datapath;
        var services = dsr.Services.Select(s =>
        {
            var applied = tables?.Services.FirstOrDefault(t => t.Vip.Equals(s.Vip) && t.Port == s.Port && t.Protocol == s.Protocol);
            var traffic = applied is null ? default : datapath.ReadServiceTraffic(applied.ServiceId);
            var key = new DsrServiceKey(s.Vip, s.Port, s.Protocol);
            // "live" when a live change says it (the config says otherwise): see DsrOverlay.
            var change = (System.Net.IPAddress a) => live.FirstOrDefault(c => c.Service == key && c.Address.Equals(a));
            var backends = s.Backends.Select(b =>
            {
                var backend = tables?.Backends.FirstOrDefault(t => t.Address.Equals(b.Address));
                var t = backend is null ? default : datapath.ReadBackendTraffic(backend.BackendId);
                var c = change(b.Address);
                return new DsrBackendStatus(backend?.BackendId, b.Address.ToString(), b.Weight, b.Weight == 0 ? "draining" : "active",
                    null, null, null, t.Packets, t.Bytes, c is null ? Config : Live, c is null ? null : ConfigSays(c.ConfigWeight));
            }).Concat(removing.Where(r => r.Services.Contains(key)).Select(r =>
            {
                var t = datapath.ReadBackendTraffic(r.BackendId);
                var c = change(r.Address);
                return new DsrBackendStatus(r.BackendId, r.Address.ToString(), 0, "removing", r.Flows,
                    Timestamp(r.Since), Timestamp(r.LastActive), t.Packets, t.Bytes, c is null ? Config : Live, c is null ? null : ConfigSays(c.ConfigWeight));
            }));
            return new DsrServiceStatus(applied?.ServiceId, s.Vip.ToString(), s.Port, DsrOptions.ProtocolName(s.Protocol),
                traffic.Packets, traffic.Bytes, [.. backends]);
        }).ToList();

        var counters = new Dictionary<string, ulong>();
        if (tables is not null)
        {
            var read = datapath.ReadCounters();
            for (var c = (DsrCounter)0; c < DsrCounter.Max; c++)
                counters[CounterName(c)] = read.TryGetValue(c, out ulong v) ? v : 0;
        }
        var changes = live.Select(c => new DsrLiveChangeStatus($"{c.Service.Vip}:{c.Service.Port}/{DsrOptions.ProtocolName(c.Service.Protocol)}",
            c.Address.ToString(), DsrLiveChange.Describe(c.Weight), ConfigSays(c.ConfigWeight), Timestamp(c.At))).ToList();
        return new DsrStatusAnswer(new DsrStatusBody(services, counters, changes, dsr.StatePath));
    }

    private const string Config = "config", Live = "live";

    private static string ConfigSays(uint? weight) => weight is { } w ? $"weight {w}" : "not listed";

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}

/// <param name="Counters">Empty until the tables are applied.</param>
/// <param name="LiveChanges">The changes made at run time that the config file does not say (kept in
/// <paramref name="StateFile"/> across restarts), purged removals included.</param>
/// <param name="StateFile">Where they are kept; left out when they are not kept.</param>
internal sealed record DsrStatusBody(IReadOnlyList<DsrServiceStatus> Services, IReadOnlyDictionary<string, ulong> Counters,
    IReadOnlyList<DsrLiveChangeStatus>? LiveChanges = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StateFile = null);

/// <param name="Live">"weight N" or "removed".</param>
/// <param name="Config">What the config file says for the backend there: "weight N" or "not listed".</param>
/// <param name="At">When the change was made, ISO 8601 UTC.</param>
internal sealed record DsrLiveChangeStatus(string Service, string Address, string Live, string Config, string At);

/// <param name="Id">The service's id in the tables in force; left out until they are applied.</param>
internal sealed record DsrServiceStatus(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] uint? Id,
    string Vip, ushort Port, string Protocol, ulong Packets, ulong Bytes, IReadOnlyList<DsrBackendStatus> Backends);

/// <param name="State">"active", "draining" (weight 0) or "removing" (no new flows; kept for its established ones).</param>
/// <param name="Source">"config" or "live": weight and state come from a live change the config file does not say.</param>
/// <param name="Config">Live: what the config file says for it instead ("weight 1", "not listed").</param>
/// <param name="Flows">Removing: the connection entries that still name it (-1 before the first count).</param>
/// <param name="RemovedAt">Removing: when, ISO 8601 UTC; so <paramref name="LastActiveAt"/>, when a flow last used it.</param>
internal sealed record DsrBackendStatus(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] uint? Id,
    string Address, uint Weight, string State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Flows,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? RemovedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LastActiveAt,
    ulong Packets, ulong Bytes,
    string Source = "config",
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Config = null);

/// <summary>The DSR load balancer's wire shapes (source-generated serializers, shared by the control socket and the CLI).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DsrStatusAnswer))]
internal sealed partial class DsrJsonContext : JsonSerializerContext;
