using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using SfcProxy.Composition;
using SfcProxy.Configuration;

namespace SfcProxy.Tests.Configuration;

/// <summary>Binds and validates "SfcProxy" sections written as JSON, like a config file would.</summary>
internal static class OptionsFixture
{
    /// <summary>The interfaces the table tests pretend exist.</summary>
    public static readonly IReadOnlySet<string> Interfaces = new HashSet<string> { "lo", "eth0", "veth-vnf" };

    /// <summary>A valid minimal section.</summary>
    public const string Minimal = """{ "Interfaces": { "Ingress": "eth0", "Egress": "eth0" } }""";

    /// <summary><see cref="Minimal"/> with the given properties merged in ("\"KeyMode\":\"fast\"").</summary>
    public static string With(string overrides)
    {
        var merged = JsonNode.Parse(Minimal)!.AsObject();
        Merge(merged, JsonNode.Parse("{" + overrides + "}")!.AsObject());
        return merged.ToJsonString();
    }

    public static SfcProxyOptions Bind(string sectionJson)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes($$"""{ "SfcProxy": {{sectionJson}} }""")))
            .Build();
        var options = Modules.NewOptions();
        SfcProxyOptionsBinder.Bind(configuration.GetSection(SfcProxyOptions.SectionName), options);
        return options;
    }

    public static IReadOnlyList<string> Failures(SfcProxyOptions options)
    {
        var result = new SfcProxyOptionsValidator(() => Interfaces).Validate(null, options);
        return result.Failed ? result.Failures.ToList() : [];
    }

    public static IReadOnlyList<string> Failures(string sectionJson) => Failures(Bind(sectionJson));

    private static void Merge(JsonObject target, JsonObject source)
    {
        foreach (var (key, value) in source.ToList())
        {
            if (value is JsonObject child && target[key] is JsonObject existing)
                Merge(existing, child);
            else
                target[key] = value?.DeepClone();
        }
    }
}
