using System.Globalization;
using System.Text;
using System.Text.Json;
using SfcProxy.Configuration;
using SfcProxy.Control;

namespace SfcProxy.Dsr;

/// <summary>
/// The DSR load balancer's part of the <c>metrics</c> answer (Prometheus text format 0.0.4): the
/// datapath's outcome and event counters, packets per service and per backend, the backends'
/// weights and the connection entries of removing backends. Bytes are the client's IPv4 packets
/// as received (IPv4 total length; no Ethernet header, no outer header).
/// </summary>
internal static class DsrPrometheusText
{
    /// <summary>The last outcome counter: dsr_lb counts exactly one of these per packet; the rest are events.</summary>
    private const DsrCounter LastOutcome = DsrCounter.Aborted;

    /// <summary>Label value of a datapath counter: its name in snake_case ("conn_hit").</summary>
    public static string CounterLabel(DsrCounter counter) => JsonNamingPolicy.SnakeCaseLower.ConvertName(counter.ToString());

    public static void Write(StringBuilder text, string instance, ActiveDsr dsr)
    {
        string i = $"instance=\"{PrometheusText.EscapeLabelValue(instance)}\"";
        var tables = dsr.Tables;
        var datapath = dsr.Datapath;
        var counters = tables is null ? new Dictionary<DsrCounter, ulong>() : datapath.ReadCounters();
        ulong Counter(DsrCounter c) => counters.TryGetValue(c, out var v) ? v : 0;

        PrometheusText.Family(text, "sfcproxy_dsr_packets_total", "counter",
            "Packets dsr_lb handled, by outcome (exactly one per packet; DSR_CNT_* of bpf/dsr/dsr_shared.h), summed over CPUs.",
            Enumerable.Range(0, (int)LastOutcome + 1).Select(c => ($"{i},outcome=\"{CounterLabel((DsrCounter)c)}\"", Counter((DsrCounter)c))));
        PrometheusText.Family(text, "sfcproxy_dsr_events_total", "counter",
            "dsr_lb events on the way to an outcome (connection hit or new, MSS clamped, FIB fallback), summed over CPUs.",
            Enumerable.Range((int)LastOutcome + 1, (int)(DsrCounter.Max - LastOutcome - 1))
                .Select(c => ($"{i},event=\"{CounterLabel((DsrCounter)c)}\"", Counter((DsrCounter)c))));

        var services = (tables?.Services ?? []).Select(s => (Labels: $"{i},{ServiceLabels(s.Vip, s.Port, s.Protocol)}",
            Traffic: datapath.ReadServiceTraffic(s.ServiceId))).ToList();
        PrometheusText.Family(text, "sfcproxy_dsr_service_packets_total", "counter",
            "Packets dsr_lb encapsulated for a service (VIP, port, protocol).",
            services.Select(s => (s.Labels, s.Traffic.Packets)));
        PrometheusText.Family(text, "sfcproxy_dsr_service_bytes_total", "counter",
            "Bytes of the client's IPv4 packets (total length) dsr_lb encapsulated for a service.",
            services.Select(s => (s.Labels, s.Traffic.Bytes)));
        var backends = (tables?.Backends ?? []).Select(b => (Labels: $"{i},backend=\"{b.Address}\"",
            Traffic: datapath.ReadBackendTraffic(b.BackendId))).ToList();
        PrometheusText.Family(text, "sfcproxy_dsr_backend_packets_total", "counter",
            "Packets dsr_lb encapsulated to a backend (all its services; from 0 again when a purged backend's slot is reused).",
            backends.Select(b => (b.Labels, b.Traffic.Packets)));
        PrometheusText.Family(text, "sfcproxy_dsr_backend_bytes_total", "counter",
            "Bytes of the client's IPv4 packets (total length) dsr_lb encapsulated to a backend (as its packets counter).",
            backends.Select(b => (b.Labels, b.Traffic.Bytes)));

        var removing = dsr.ReadRemoving();
        var weights = new List<(string, ulong)>();
        foreach (var s in dsr.Services)
        {
            string service = $"{i},{ServiceLabels(s.Vip, s.Port, s.Protocol)}";
            var key = new DsrServiceKey(s.Vip, s.Port, s.Protocol);
            weights.AddRange(s.Backends.Select(b => ($"{service},backend=\"{b.Address}\"", (ulong)b.Weight)));
            weights.AddRange(removing.Where(r => r.Services.Contains(key)).Select(r => ($"{service},backend=\"{r.Address}\"", 0ul)));
        }
        PrometheusText.Family(text, "sfcproxy_dsr_backend_weight", "gauge",
            "A backend's Maglev weight in a service (0: draining, or removing).", weights);
        PrometheusText.Family(text, "sfcproxy_dsr_removing_backend_flows", "gauge",
            "Connection-table entries naming a removed backend whose slot is kept until its flows are idle.",
            removing.Select(r => ($"{i},backend=\"{r.Address}\"", (ulong)Math.Max(r.Flows, 0))));
    }

    private static string ServiceLabels(System.Net.IPAddress vip, ushort port, byte protocol) =>
        $"vip=\"{vip}\",port=\"{port}\",protocol=\"{DsrOptions.ProtocolName(protocol)}\"";
}
