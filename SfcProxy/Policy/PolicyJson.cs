using System.Globalization;
using System.Text.Json.Serialization;

namespace SfcProxy.Policy;

/// <summary>
/// The policy answers of the control protocol (<c>policy-status</c>, <c>policy-apply</c>,
/// <c>policy-check</c>). The CLI builds the same answers for its offline views, so one renderer
/// (and one --json format) serves both.
/// </summary>
internal static class PolicyJson
{
    /// <summary>Where a check's answer comes from: the kernel's maps, or the compiled model in user space.</summary>
    public const string FromDatapath = "datapath", FromModel = "model";

    /// <param name="hits">Per-rule packets from the datapath; null offline (no "hits" then).</param>
    public static PolicyStatusAnswer Status(CompiledPolicy policy, IReadOnlyDictionary<uint, ulong>? hits)
    {
        var cidrs = policy.Tables.Prefixes.ToLookup(p => p.Identity, p => p.Cidr.ToString());
        return new PolicyStatusAnswer(new PolicyStatusBody(
            policy.Files, policy.Identities.Count, policy.Tables.Prefixes.Count, policy.Tables.EnforcedIdentities.Count,
            policy.Rules.Count, policy.Tables.Rules.Count,
            [.. policy.Identities.Select(i => new PolicyIdentityStatus(i.Id, i.Labels.ToString(), policy.IsEnforced(i.Id), i.Endpoints, [.. cidrs[i.Id]]))],
            policy.IsEnforced(ReservedIdentity.World),
            [.. policy.Rules.Select(r => new PolicyRuleStatus(r.Id, r.Name, r.Origin, r.From.ToString(), r.To.ToString(),
                r.Ports.Count == 0 ? ["any"] : [.. r.Ports.Select(PortText)], r.SourceIdentities, r.DestinationIdentities, r.Entries, r.Generated,
                hits is null ? null : hits.TryGetValue(r.Id, out ulong count) ? count : 0))]));
    }

    /// <summary>The size of the policy now in force.</summary>
    public static PolicyAppliedAnswer Applied(PolicyApplyResult result)
    {
        var policy = result.Policy!;
        return new PolicyAppliedAnswer(new PolicyApplied(
            policy.Files, policy.Identities.Count, policy.Tables.Prefixes.Count, policy.Tables.EnforcedIdentities.Count,
            policy.Rules.Count, policy.Tables.Rules.Count, Math.Round(result.CompileTime.TotalMilliseconds, 3)));
    }

    /// <summary>The verdict, why, and the identities it was found for.</summary>
    public static PolicyCheckAnswer Check(PolicyCheck check, PolicyCheckResult result, CompiledPolicy? policy, string from)
    {
        bool byRule = result.RuleId != ReservedIdentity.None;
        return new PolicyCheckAnswer(new PolicyCheckBody(
            from, result.Allowed, VerdictName(result.Verdict),
            byRule ? result.RuleId : null,
            byRule ? policy?.Rule(result.RuleId)?.Name ?? $"#{result.RuleId} (not in the policy this daemon applied)" : null,
            check.Source.ToString(), result.SourceIdentity, policy?.Describe(result.SourceIdentity) ?? "unknown",
            check.Destination.ToString(), result.DestinationIdentity, policy?.Describe(result.DestinationIdentity) ?? "unknown",
            PolicyProtocol.NameOf(check.Protocol), check.Port));
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
}

/// <summary>The answer to <c>policy-status</c> (and <c>policy ls --file</c> offline).</summary>
internal sealed record PolicyStatusAnswer(PolicyStatusBody Policy)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}

/// <summary>Files, sizes, identities with their CIDRs, rules with entry counts and (from the daemon) hits.</summary>
internal sealed record PolicyStatusBody(
    IReadOnlyList<string> Files, int IdentityCount, int PrefixCount, int EnforcedCount, int RuleCount, int EntryCount,
    IReadOnlyList<PolicyIdentityStatus> Identities, bool WorldEnforced, IReadOnlyList<PolicyRuleStatus> Rules);

internal sealed record PolicyIdentityStatus(uint Id, string Labels, bool Enforced, IReadOnlyList<string> Endpoints, IReadOnlyList<string> Cidrs);

/// <param name="Ports">"tcp/443", "udp", or "any".</param>
/// <param name="Hits">Packets the datapath allowed by this rule; left out offline.</param>
internal sealed record PolicyRuleStatus(
    uint Id, string Name, string Origin, string From, string To, IReadOnlyList<string> Ports,
    int Sources, int Destinations, int Entries, int Generated,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ulong? Hits);

/// <summary>The answer to an applied <c>policy-apply</c>.</summary>
internal sealed record PolicyAppliedAnswer(PolicyApplied Applied)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}

internal sealed record PolicyApplied(
    IReadOnlyList<string> Files, int IdentityCount, int PrefixCount, int EnforcedCount, int RuleCount, int EntryCount, double CompileMs);

/// <summary>The answer to <c>policy-check</c> (and <c>policy check --offline</c>).</summary>
internal sealed record PolicyCheckAnswer(PolicyCheckBody Check)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;
}

/// <param name="AnsweredBy"><see cref="PolicyJson.FromDatapath"/> or <see cref="PolicyJson.FromModel"/>.</param>
/// <param name="Verdict">"rule", "not-enforced" or "default-deny".</param>
/// <param name="RuleId">The allowing rule; left out, with <paramref name="Rule"/>, when no rule decided.</param>
internal sealed record PolicyCheckBody(
    string AnsweredBy, bool Allowed, string Verdict,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] uint? RuleId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Rule,
    string Src, uint SrcIdentity, string SrcLabels, string Dst, uint DstIdentity, string DstLabels, string Protocol, ushort Port);
