using System.Net;
using System.Text.Json;
using SfcProxy.Configuration;
using SfcProxy.Control;

namespace SfcProxy.Dsr;

/// <summary>A parsed dsr-backend request.</summary>
internal sealed record DsrBackendChange(string Action, IPAddress Vip, ushort Port, byte Protocol, IPAddress Address, uint? Weight);

/// <summary>The DSR answers of the control protocol (<c>dsr-status</c>, <c>dsr-backend</c>).</summary>
internal static class DsrJson
{
    public static readonly string[] Actions = ["add", "remove", "weight"];

    /// <summary>Wire name of a datapath counter ("conn-hit").</summary>
    public static string CounterName(DsrCounter counter) => JsonNamingPolicy.KebabCaseLower.ConvertName(counter.ToString());

    /// <summary><c>"dsr":{...}</c>: services with their packets, backends with weight, state and
    /// packets (removing backends also with their connection entries, "flows"), datapath counters.</summary>
    public static void WriteStatus(Utf8JsonWriter json, ActiveDsr dsr)
    {
        var services = dsr.Services;
        var removing = dsr.ReadRemoving();
        var tables = dsr.Tables;
        var datapath = dsr.Datapath;
        json.WriteStartObject("dsr");
        json.WriteStartArray("services");
        foreach (var s in services)
        {
            var applied = tables?.Services.FirstOrDefault(t => t.Vip.Equals(s.Vip) && t.Port == s.Port && t.Protocol == s.Protocol);
            json.WriteStartObject();
            if (applied is not null)
                json.WriteNumber("id", applied.ServiceId);
            json.WriteString("vip", s.Vip.ToString());
            json.WriteNumber("port", s.Port);
            json.WriteString("protocol", DsrOptions.ProtocolName(s.Protocol));
            WriteTraffic(json, applied is null ? default : datapath.ReadServiceTraffic(applied.ServiceId));
            json.WriteStartArray("backends");
            foreach (var b in s.Backends)
            {
                var backend = tables?.Backends.FirstOrDefault(t => t.Address.Equals(b.Address));
                json.WriteStartObject();
                if (backend is not null)
                    json.WriteNumber("id", backend.BackendId);
                json.WriteString("address", b.Address.ToString());
                json.WriteNumber("weight", b.Weight);
                json.WriteString("state", b.Weight == 0 ? "draining" : "active");
                WriteTraffic(json, backend is null ? default : datapath.ReadBackendTraffic(backend.BackendId));
                json.WriteEndObject();
            }
            foreach (var r in removing.Where(r => r.Services.Contains(new DsrServiceKey(s.Vip, s.Port, s.Protocol))))
            {
                json.WriteStartObject();
                json.WriteNumber("id", r.BackendId);
                json.WriteString("address", r.Address.ToString());
                json.WriteNumber("weight", 0);
                json.WriteString("state", "removing");
                json.WriteNumber("flows", r.Flows);
                json.WriteString("removedAt", r.Since.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("lastActiveAt", r.LastActive.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                WriteTraffic(json, datapath.ReadBackendTraffic(r.BackendId));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartObject("counters");
        if (tables is not null)
        {
            var counters = datapath.ReadCounters();
            for (var c = (DsrCounter)0; c < DsrCounter.Max; c++)
                json.WriteNumber(CounterName(c), counters.TryGetValue(c, out ulong v) ? v : 0);
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>"packets" and "bytes" (of the client's IPv4 packets) of a service or backend.</summary>
    private static void WriteTraffic(Utf8JsonWriter json, DsrTraffic traffic)
    {
        json.WriteNumber("packets", traffic.Packets);
        json.WriteNumber("bytes", traffic.Bytes);
    }

    /// <returns>null with <paramref name="error"/> when a field is missing or wrong.</returns>
    public static DsrBackendChange? ParseBackendChange(ControlRequest request, out string error)
    {
        error = "";
        string? action = request.Action?.Trim().ToLowerInvariant();
        if (action is null || !Actions.Contains(action))
            error = $"\"action\" must be one of {string.Join(", ", Actions)}";
        else if (!DsrOptions.TryParseV4(request.Vip, out var vip))
            error = $"\"vip\" must be an IPv4 address, got '{request.Vip}'";
        else if (request.Port is not (>= 1 and <= 65535))
            error = "\"port\" must be a whole number 1..65535";
        else if (DsrOptions.ProtocolNumber(request.Protocol ?? "tcp") is not { } protocol)
            error = $"\"protocol\" must be tcp or udp, got '{request.Protocol}'";
        else if (!DsrOptions.TryParseV4(request.Address, out var address))
            error = $"\"address\" must be an IPv4 address, got '{request.Address}'";
        else if (action == "weight" && request.Weight is null)
            error = "\"weight\" is required for action weight (0 drains)";
        else if (action == "remove" && request.Weight is not null)
            error = "\"weight\" makes no sense for action remove";
        else
            return new DsrBackendChange(action, vip, (ushort)request.Port.Value, protocol, address, (uint?)request.Weight);
        return null;
    }
}
