using System.Globalization;
using System.Text;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;

namespace SfcProxy.Control;

/// <summary>The instance's counters and cache gauges in the Prometheus text exposition format 0.0.4.</summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4";

    /// <param name="dsr">The DSR load balancer, when the instance runs one: its metrics follow.</param>
    public static string Write(string instance, IReadOnlyDictionary<Counter, ulong> counters, CacheSummary cache, double uptimeSeconds,
        SfcProxy.Dsr.ActiveDsr? dsr = null)
    {
        var text = new StringBuilder(8192);
        string labels = $"{{instance=\"{EscapeLabelValue(instance)}\"}}";
        foreach (var counter in CounterNames.All)
        {
            string name = CounterNames.Of(counter);
            ulong value = counters.TryGetValue(counter, out ulong v) ? v : 0;
            Metric(text, $"sfcproxy_{name}_total", "counter",
                $"Datapath counter {name} (SFC_CNT_{name.ToUpperInvariant()}), summed over CPUs.", labels, value.ToString(CultureInfo.InvariantCulture));
        }
        Metric(text, "sfcproxy_cache_entries", "gauge", "Header sets in the header cache now.", labels,
            cache.Entries.ToString(CultureInfo.InvariantCulture));
        Metric(text, "sfcproxy_cache_capacity", "gauge", "Header sets the header cache can hold (map max_entries).", labels,
            cache.Capacity.ToString(CultureInfo.InvariantCulture));
        Metric(text, "sfcproxy_uptime_seconds", "gauge", "Seconds since the control socket started serving.", labels,
            uptimeSeconds.ToString("0.###", CultureInfo.InvariantCulture));
        if (dsr is not null)
            DsrPrometheusText.Write(text, instance, dsr);
        return text.ToString();
    }

    private static void Metric(StringBuilder text, string name, string type, string help, string labels, string value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
            .Append(name).Append(labels).Append(' ').Append(value).Append('\n');

    /// <summary>One metric family: HELP and TYPE once, then a sample per (labels without braces, value).</summary>
    internal static void Family(StringBuilder text, string name, string type, string help, IEnumerable<(string Labels, ulong Value)> samples)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        foreach (var (labels, value) in samples)
            text.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>Label values escape backslash, double quote and line feed (format 0.0.4).</summary>
    internal static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);
}
