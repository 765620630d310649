using SfcProxy.Configuration;

namespace SfcProxy.Policy;

// The policy module's part of the "SfcProxy" section: its "Policy" object.
public sealed partial class PolicyOptions : IOptionsSection
{
    string IOptionsSection.Description => "Policy:Files (the identity policy)";

    bool IOptionsSection.IsConfigured => Enabled;

    string? IOptionsSection.RestartOnlySection => SectionKey;

    void IOptionsSection.Bind(ConfigSectionReader root, SfcProxyOptions options)
    {
        var policy = root.Object(SectionKey);
        var files = policy.Array(nameof(Files)).ToList();
        if (files.Count > 0)
            Files = files.Select(f => f.OwnString()).ToList();
        var interfaces = policy.Array(nameof(Interfaces)).ToList();
        if (interfaces.Count > 0)
            Interfaces = interfaces.Select(i => i.OwnString()).ToList();
        policy.RejectUnknownKeys();
    }

    void IOptionsSection.Validate(SfcProxyOptions options, IReadOnlySet<string>? existingInterfaces, List<string> failures) =>
        PolicyOptionsValidation.Validate(this, existingInterfaces, failures);

    // Policy runs at tc (policy_tc); it takes no XDP hook.
    IEnumerable<XdpHookClaim> IOptionsSection.XdpHooks(SfcProxyOptions options) => [];

    /// <summary>The key of this section below "SfcProxy".</summary>
    internal const string SectionKey = "Policy";
}

/// <summary>The policy section read as a property of the root options: <c>options.Policy</c>.</summary>
internal static class PolicySectionAccess
{
    extension(SfcProxyOptions options)
    {
        /// <summary>The "SfcProxy:Policy" section (the options must carry the policy module's section).</summary>
        public PolicyOptions Policy => options.Section<PolicyOptions>();
    }
}
