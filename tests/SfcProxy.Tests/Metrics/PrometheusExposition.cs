using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SfcProxy.Tests.Metrics;

/// <summary>One sample line: the sample's name (a histogram's carry _bucket, _sum, _count), its labels and value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    /// <summary>The sample with its labels sorted by name: <c>name{a="1",b="2"} value</c>, for comparing whatever order a writer chose.</summary>
    public string Canonical =>
        Name + "{" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "} "
        + Value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>A metric family: HELP, TYPE and its samples.</summary>
internal sealed record PrometheusFamily(string Name, string Type, string Help, List<PrometheusSample> Samples);

/// <summary>
/// A strict reader of the Prometheus text exposition format 0.0.4, as Prometheus's own parser
/// reads it, so a test fails on what a real scrape would reject or misread: the line grammar
/// (names, label escapes, float values), each family's TYPE before its samples and given once, its
/// samples together, no series twice, sample names that fit the type (_bucket/_sum/_count of a
/// histogram), and cumulative histogram buckets ending in +Inf that equal _count.
/// </summary>
internal static partial class PrometheusExposition
{
    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    private static readonly string[] Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    /// <summary>The families by name, in order; throws <see cref="FormatException"/> naming the line on anything a scrape would reject.</summary>
    public static IReadOnlyDictionary<string, PrometheusFamily> Parse(string text)
    {
        if (text.Length > 0 && !text.EndsWith('\n'))
            throw new FormatException("the exposition does not end with a line feed");
        var families = new Dictionary<string, PrometheusFamily>(StringComparer.Ordinal);
        var helps = new Dictionary<string, string>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        PrometheusFamily? current = null;
        int n = 0;
        foreach (string line in text.TrimEnd('\n').Split('\n'))
        {
            n++;
            string where = $"line {n} '{line}'";
            if (line.Length == 0)
                continue;
            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 3 && parts[1] is "HELP" or "TYPE")
                {
                    if (!MetricName().IsMatch(parts[2]))
                        throw new FormatException($"{where}: bad metric name");
                    string rest = parts.Length == 4 ? parts[3] : "";
                    if (parts[1] == "HELP")
                    {
                        if (!helps.TryAdd(parts[2], rest))
                            throw new FormatException($"{where}: second HELP for {parts[2]}");
                        continue;
                    }
                    if (!Types.Contains(rest))
                        throw new FormatException($"{where}: unknown type '{rest}'");
                    if (families.ContainsKey(parts[2]))
                        throw new FormatException($"{where}: second TYPE for {parts[2]}");
                    current = new PrometheusFamily(parts[2], rest, helps.GetValueOrDefault(parts[2], ""), []);
                    families.Add(parts[2], current);
                }
                continue;
            }
            var sample = ParseSample(line, where);
            if (current is null || !BelongsTo(sample.Name, current))
                throw new FormatException($"{where}: sample outside its family (declared TYPE before it, samples together)");
            if (!series.Add(sample.Canonical[..sample.Canonical.LastIndexOf(' ')]))
                throw new FormatException($"{where}: the series appears twice");
            current.Samples.Add(sample);
        }
        foreach (var f in families.Values.Where(f => f.Type == "histogram"))
            CheckHistogram(f);
        return families;
    }

    /// <summary>Reads one sample line (<c>name{labels} value [timestamp]</c>).</summary>
    public static PrometheusSample ParseSample(string line, string where = "sample")
    {
        int i = 0;
        while (i < line.Length && line[i] is not ('{' or ' '))
            i++;
        string name = line[..i];
        if (!MetricName().IsMatch(name))
            throw new FormatException($"{where}: bad metric name '{name}'");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                int eq = line.IndexOf('=', i);
                if (eq < 0)
                    throw new FormatException($"{where}: label without '='");
                string label = line[i..eq];
                if (!LabelName().IsMatch(label) || line[eq + 1] != '"')
                    throw new FormatException($"{where}: bad label '{label}'");
                var value = new StringBuilder();
                int j = eq + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] != '\\')
                    {
                        value.Append(line[j]);
                        continue;
                    }
                    j++;
                    value.Append(line[j] switch
                    {
                        '\\' => '\\',
                        '"' => '"',
                        'n' => '\n',
                        _ => throw new FormatException($"{where}: bad escape '\\{line[j]}'"),
                    });
                }
                if (!labels.TryAdd(label, value.ToString()))
                    throw new FormatException($"{where}: label {label} twice");
                i = j + 1;
                if (line[i] == ',')
                    i++;
                else if (line[i] != '}')
                    throw new FormatException($"{where}: expected ',' or '}}' after label {label}");
            }
            i++;
        }
        if (i >= line.Length || line[i] != ' ')
            throw new FormatException($"{where}: no value");
        var fields = line[(i + 1)..].Split(' ');
        if (fields.Length > 2 || (fields.Length == 2 && !long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)))
            throw new FormatException($"{where}: expected a value and an optional integer timestamp");
        return new PrometheusSample(name, labels, ParseValue(fields[0], where));
    }

    private static double ParseValue(string text, string where) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new FormatException($"{where}: value '{text}' is not a float"),
    };

    private static bool BelongsTo(string sample, PrometheusFamily family) => family.Type switch
    {
        "histogram" => sample == family.Name + "_bucket" || sample == family.Name + "_sum" || sample == family.Name + "_count",
        "summary" => sample == family.Name || sample == family.Name + "_sum" || sample == family.Name + "_count",
        _ => sample == family.Name,
    };

    private static void CheckHistogram(PrometheusFamily family)
    {
        foreach (var group in family.Samples.GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key).Select(l => $"{l.Key}={l.Value}"))))
        {
            var buckets = group.Where(s => s.Name.EndsWith("_bucket", StringComparison.Ordinal))
                .Select(s => (Le: ParseValue(s.Labels.TryGetValue("le", out var le) ? le : throw new FormatException($"{family.Name} {{{group.Key}}}: a bucket without le"), family.Name), s.Value))
                .OrderBy(b => b.Le).ToList();
            double count = group.Single(s => s.Name == family.Name + "_count").Value;
            if (buckets.Count == 0 || !double.IsPositiveInfinity(buckets[^1].Le) || buckets[^1].Value != count)
                throw new FormatException($"{family.Name} {{{group.Key}}}: the +Inf bucket must be there and equal _count ({count})");
            for (int k = 1; k < buckets.Count; k++)
            {
                if (buckets[k].Value < buckets[k - 1].Value)
                    throw new FormatException($"{family.Name} {{{group.Key}}}: buckets are not cumulative at le={buckets[k].Le}");
            }
            _ = group.Single(s => s.Name == family.Name + "_sum");
        }
    }
}
