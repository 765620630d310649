using System.Text.Json;
using System.Text.RegularExpressions;

namespace SfcProxy.Tests.Metrics;

/// <summary>deploy/grafana/sfcproxy-dashboard.json as the tests read it: its PromQL and the metric names it uses.</summary>
internal static partial class GrafanaDashboard
{
    public static string PathInOutput => Path.Combine(AppContext.BaseDirectory, "deploy", "grafana", "sfcproxy-dashboard.json");

    [GeneratedRegex(@"\bsfcproxy_[a-zA-Z0-9_]+")]
    private static partial Regex MetricName();

    /// <summary>Every PromQL text in the dashboard: the panels' target expressions and the variables' queries.</summary>
    public static IReadOnlyList<string> Queries(JsonElement dashboard)
    {
        var queries = new List<string>();
        void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in e.EnumerateObject())
                {
                    if (p.Name is "expr" or "query" or "definition" && p.Value.ValueKind == JsonValueKind.String)
                        queries.Add(p.Value.GetString()!);
                    else
                        Walk(p.Value);
                }
            }
            else if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in e.EnumerateArray())
                    Walk(item);
            }
        }
        Walk(dashboard);
        return queries;
    }

    /// <summary>The sample names the queries select (a histogram by its _bucket series).</summary>
    public static IReadOnlySet<string> MetricNames(JsonElement dashboard) =>
        Queries(dashboard).SelectMany(q => MetricName().Matches(q).Select(m => m.Value)).ToHashSet(StringComparer.Ordinal);

    public static JsonDocument Load() => JsonDocument.Parse(File.ReadAllText(PathInOutput));
}
