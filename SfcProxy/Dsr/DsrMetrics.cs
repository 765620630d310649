using System.Text.Json;
using SfcProxy.Configuration;
using SfcProxy.Metrics;

namespace SfcProxy.Dsr;

/// <summary>
/// The DSR load balancer's metric families, read at each scrape: the datapath's outcome and event
/// counters, packets and bytes per service and per backend, the backends' weights and the
/// connection entries of removing backends. Bytes are the client's IPv4 packets as received (IPv4
/// total length; no Ethernet header, no outer header).
/// </summary>
internal sealed class DsrMetrics(ActiveDsr dsr) : IMetricsSource
{
    private static readonly string[] ServiceLabels = ["vip", "port", "protocol"];

    /// <summary>Label value of a datapath counter: its name in snake_case ("conn_hit").</summary>
    public static string CounterLabel(DsrCounter counter) => JsonNamingPolicy.SnakeCaseLower.ConvertName(counter.ToString());

    public void AddTo(InstanceMetrics metrics)
    {
        var f = metrics.Factory;
        var outcomes = new KernelCounterFamily(f, "sfcproxy_dsr_packets_total",
            "Packets dsr_lb handled, by outcome (exactly one per packet; DSR_CNT_* of bpf/dsr/dsr_shared.h), summed over CPUs.", "outcome");
        var events = new KernelCounterFamily(f, "sfcproxy_dsr_events_total",
            "dsr_lb events on the way to an outcome (connection hit or new, MSS clamped, FIB fallback), summed over CPUs.", "event");
        var servicePackets = new KernelCounterFamily(f, "sfcproxy_dsr_service_packets_total",
            "Packets dsr_lb encapsulated for a service (VIP, port, protocol).", ServiceLabels);
        var serviceBytes = new KernelCounterFamily(f, "sfcproxy_dsr_service_bytes_total",
            "Bytes of the client's IPv4 packets (total length) dsr_lb encapsulated for a service.", ServiceLabels);
        var backendPackets = new KernelCounterFamily(f, "sfcproxy_dsr_backend_packets_total",
            "Packets dsr_lb encapsulated to a backend (all its services; from 0 again when a purged backend's slot is reused).", "backend");
        var backendBytes = new KernelCounterFamily(f, "sfcproxy_dsr_backend_bytes_total",
            "Bytes of the client's IPv4 packets (total length) dsr_lb encapsulated to a backend (as its packets counter).", "backend");
        var weights = new KernelGaugeFamily(f, "sfcproxy_dsr_backend_weight",
            "A backend's Maglev weight in a service (0: draining, or removing).", [.. ServiceLabels, "backend"]);
        var removingFlows = new KernelGaugeFamily(f, "sfcproxy_dsr_removing_backend_flows",
            "Connection-table entries naming a removed backend whose slot is kept until its flows are idle.", "backend");

        metrics.OnScrape(() =>
        {
            var tables = dsr.Tables;
            var datapath = dsr.Datapath;
            var counters = tables is null ? new Dictionary<DsrCounter, ulong>() : datapath.ReadCounters();
            for (var c = (DsrCounter)0; c < DsrCounter.Max; c++)
                (c.IsOutcome() ? outcomes : events).Set(counters.TryGetValue(c, out var v) ? v : 0, CounterLabel(c));
            foreach (var s in tables?.Services ?? [])
            {
                var traffic = datapath.ReadServiceTraffic(s.ServiceId);
                servicePackets.Set(traffic.Packets, Service(s.Vip, s.Port, s.Protocol));
                serviceBytes.Set(traffic.Bytes, Service(s.Vip, s.Port, s.Protocol));
            }
            foreach (var b in tables?.Backends ?? [])
            {
                var traffic = datapath.ReadBackendTraffic(b.BackendId);
                backendPackets.Set(traffic.Packets, b.Address.ToString());
                backendBytes.Set(traffic.Bytes, b.Address.ToString());
            }
            var removing = dsr.ReadRemoving();
            foreach (var s in dsr.Services)
            {
                var key = new DsrServiceKey(s.Vip, s.Port, s.Protocol);
                foreach (var b in s.Backends)
                    weights.Set(b.Weight, [.. Service(s.Vip, s.Port, s.Protocol), b.Address.ToString()]);
                foreach (var r in removing.Where(r => r.Services.Contains(key)))
                    weights.Set(0, [.. Service(s.Vip, s.Port, s.Protocol), r.Address.ToString()]);
            }
            foreach (var r in removing)
                removingFlows.Set(Math.Max(r.Flows, 0), r.Address.ToString());
            foreach (var family in new[] { outcomes, events, servicePackets, serviceBytes, backendPackets, backendBytes })
                family.EndScrape();
            weights.EndScrape();
            removingFlows.EndScrape();
        });
    }

    private static string[] Service(System.Net.IPAddress vip, ushort port, byte protocol) =>
        [vip.ToString(), port.ToString(System.Globalization.CultureInfo.InvariantCulture), DsrOptions.ProtocolName(protocol)];
}
