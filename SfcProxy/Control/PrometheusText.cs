using System.Globalization;
using System.Text;
using SfcProxy.Datapath;
using SfcProxy.Proxy;

namespace SfcProxy.Control;

/// <summary>The instance's counters and cache gauges in the Prometheus text exposition format 0.0.4.</summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4";

    public static string Write(string instance, IReadOnlyDictionary<Counter, ulong> counters, CacheSummary cache, double uptimeSeconds)
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
        return text.ToString();
    }

    private static void Metric(StringBuilder text, string name, string type, string help, string labels, string value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
            .Append(name).Append(labels).Append(' ').Append(value).Append('\n');

    /// <summary>Label values escape backslash, double quote and line feed (format 0.0.4).</summary>
    private static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);
}
