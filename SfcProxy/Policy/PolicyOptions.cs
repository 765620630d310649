namespace SfcProxy.Policy;

/// <summary>
/// The optional "SfcProxy:Policy" section: the identity-based policy module. Independent of the SFC
/// proxy fields; absent (no files) means the module is off.
/// </summary>
public sealed partial class PolicyOptions
{
    /// <summary>
    /// Policy files (JSON or YAML by extension), absolute paths, read in this order (rule ids follow
    /// it). Read at start and again on the <c>policy-apply</c> control request.
    /// </summary>
    public IList<string> Files { get; set; } = [];

    /// <summary>Interfaces whose traffic, both ways (tc ingress and egress), the policy judges. Required when <see cref="Files"/> is set.</summary>
    public IList<string> Interfaces { get; set; } = [];

    /// <summary>True when the section names policy files.</summary>
    public bool Enabled => Files.Count > 0;
}
