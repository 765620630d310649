using System.Globalization;
using System.Text;

namespace SfcProxy.Control;

/// <summary>
/// Writing the Prometheus text exposition format 0.0.4, for the modules' parts of the <c>metrics</c>
/// answer (<see cref="IControlModule.WriteMetrics"/>). Every sample carries the instance's label.
/// </summary>
internal static class PrometheusText
{
    /// <summary><c>{instance="NAME"}</c>.</summary>
    public static string InstanceLabels(string instance) => $"{{instance=\"{EscapeLabelValue(instance)}\"}}";

    /// <summary>A metric with one sample: HELP, TYPE, and the sample with <paramref name="labels"/> (braces included).</summary>
    public static void Metric(StringBuilder text, string name, string type, string help, string labels, string value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
            .Append(name).Append(labels).Append(' ').Append(value).Append('\n');

    /// <summary>One metric family: HELP and TYPE once, then a sample per (labels without braces, value).</summary>
    public static void Family(StringBuilder text, string name, string type, string help, IEnumerable<(string Labels, ulong Value)> samples)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        foreach (var (labels, value) in samples)
            text.Append(name).Append('{').Append(labels).Append("} ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>Label values escape backslash, double quote and line feed (format 0.0.4).</summary>
    public static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal);
}
