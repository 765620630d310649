using System.Globalization;
using System.Text.Json;
using SfcProxy.Policy;

namespace SfcProxy.Policy;

/// <summary>
/// The policy answers of the control protocol (<c>policy-status</c>, <c>policy-apply</c>,
/// <c>policy-check</c>). The CLI writes the same shapes for its offline answers, so one renderer
/// (and one --json format) serves both.
/// </summary>
internal static class PolicyJson
{
    /// <summary>Where a check's answer comes from: the kernel's maps, or the compiled model in user space.</summary>
    public const string FromDatapath = "datapath", FromModel = "model";

    /// <summary><c>"policy":{...}</c>: files, identities with their CIDRs, rules with entry counts and (when known) hits.</summary>
    public static void WriteStatus(Utf8JsonWriter json, CompiledPolicy policy, IReadOnlyDictionary<uint, ulong>? hits)
    {
        json.WriteStartObject("policy");
        WriteFiles(json, policy);
        WriteSize(json, policy);
        var cidrs = policy.Tables.Prefixes.ToLookup(p => p.Identity, p => p.Cidr.ToString());
        json.WriteStartArray("identities");
        foreach (var identity in policy.Identities)
        {
            json.WriteStartObject();
            json.WriteNumber("id", identity.Id);
            json.WriteString("labels", identity.Labels.ToString());
            json.WriteBoolean("enforced", policy.IsEnforced(identity.Id));
            WriteStrings(json, "endpoints", identity.Endpoints);
            WriteStrings(json, "cidrs", cidrs[identity.Id]);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteBoolean("worldEnforced", policy.IsEnforced(ReservedIdentity.World));
        json.WriteStartArray("rules");
        foreach (var rule in policy.Rules)
        {
            json.WriteStartObject();
            json.WriteNumber("id", rule.Id);
            json.WriteString("name", rule.Name);
            json.WriteString("origin", rule.Origin);
            json.WriteString("from", rule.From.ToString());
            json.WriteString("to", rule.To.ToString());
            WriteStrings(json, "ports", rule.Ports.Count == 0 ? ["any"] : rule.Ports.Select(PortText));
            json.WriteNumber("sources", rule.SourceIdentities);
            json.WriteNumber("destinations", rule.DestinationIdentities);
            json.WriteNumber("entries", rule.Entries);
            json.WriteNumber("generated", rule.Generated);
            if (hits is not null)
                json.WriteNumber("hits", hits.TryGetValue(rule.Id, out ulong count) ? count : 0);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary><c>"applied":{...}</c>: the size of the policy now in force.</summary>
    public static void WriteApplied(Utf8JsonWriter json, PolicyApplyResult result)
    {
        json.WriteStartObject("applied");
        WriteFiles(json, result.Policy!);
        WriteSize(json, result.Policy!);
        json.WriteNumber("compileMs", Math.Round(result.CompileTime.TotalMilliseconds, 3));
        json.WriteEndObject();
    }

    /// <summary><c>"check":{...}</c>: the verdict, why, and the identities it was found for.</summary>
    public static void WriteCheck(Utf8JsonWriter json, PolicyCheck check, PolicyCheckResult result, CompiledPolicy? policy, string from)
    {
        json.WriteStartObject("check");
        json.WriteString("answeredBy", from);
        json.WriteBoolean("allowed", result.Allowed);
        json.WriteString("verdict", VerdictName(result.Verdict));
        if (result.RuleId != ReservedIdentity.None)
        {
            json.WriteNumber("ruleId", result.RuleId);
            json.WriteString("rule", policy?.Rule(result.RuleId)?.Name ?? $"#{result.RuleId} (not in the policy this daemon applied)");
        }
        json.WriteString("src", check.Source.ToString());
        json.WriteNumber("srcIdentity", result.SourceIdentity);
        json.WriteString("srcLabels", policy?.Describe(result.SourceIdentity) ?? "unknown");
        json.WriteString("dst", check.Destination.ToString());
        json.WriteNumber("dstIdentity", result.DestinationIdentity);
        json.WriteString("dstLabels", policy?.Describe(result.DestinationIdentity) ?? "unknown");
        json.WriteString("protocol", PolicyProtocol.NameOf(check.Protocol));
        json.WriteNumber("port", check.Port);
        json.WriteEndObject();
    }

    public static string VerdictName(PolicyVerdict verdict) => verdict switch
    {
        PolicyVerdict.AllowedByRule => "rule",
        PolicyVerdict.AllowedNotEnforced => "not-enforced",
        PolicyVerdict.DeniedByDefault => "default-deny",
        _ => verdict.ToString(),
    };

    public static string PortText(PolicyPort port) =>
        port.Port == 0 ? port.Protocol : $"{port.Protocol}/{port.Port.ToString(CultureInfo.InvariantCulture)}";

    private static void WriteFiles(Utf8JsonWriter json, CompiledPolicy policy) => WriteStrings(json, "files", policy.Files);

    private static void WriteSize(Utf8JsonWriter json, CompiledPolicy policy)
    {
        json.WriteNumber("identityCount", policy.Identities.Count);
        json.WriteNumber("prefixCount", policy.Tables.Prefixes.Count);
        json.WriteNumber("enforcedCount", policy.Tables.EnforcedIdentities.Count);
        json.WriteNumber("ruleCount", policy.Rules.Count);
        json.WriteNumber("entryCount", policy.Tables.Rules.Count);
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IEnumerable<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values)
            json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
