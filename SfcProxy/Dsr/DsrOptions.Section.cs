using SfcProxy.Configuration;

namespace SfcProxy.Dsr;

// The DSR module's part of the "SfcProxy" section: its "Dsr" object.
public sealed partial class DsrOptions : IOptionsSection
{
    string IOptionsSection.Description => "Dsr:Services or Dsr:Decap (the DSR load balancer, its backend side)";

    bool IOptionsSection.IsConfigured => Enabled || DecapEnabled;

    string? IOptionsSection.RestartOnlySection => SectionKey;

    // The services reload (DsrReload: the file's services, the live changes kept on top); every
    // other field shapes the attachment and needs a restart.
    IReadOnlyList<string> IOptionsSection.LiveSubsections => [$"{SectionKey}:{nameof(Services)}"];

    void IOptionsSection.Bind(ConfigSectionReader root, SfcProxyOptions options) =>
        DsrOptionsBinder.Bind(root.Object(SectionKey), this);

    void IOptionsSection.Validate(SfcProxyOptions options, IReadOnlySet<string>? existingInterfaces, List<string> failures) =>
        DsrOptionsValidation.Validate(this, existingInterfaces, failures);

    IEnumerable<XdpHookClaim> IOptionsSection.XdpHooks(SfcProxyOptions options) =>
        Enabled && !string.IsNullOrWhiteSpace(Interface) ? [new XdpHookClaim($"{SectionKey}:Interface", Interface, "dsr_lb")] : [];

    /// <summary>The key of this section below "SfcProxy".</summary>
    internal const string SectionKey = "Dsr";
}

/// <summary>The DSR section read as a property of the root options: <c>options.Dsr</c>.</summary>
internal static class DsrSectionAccess
{
    extension(SfcProxyOptions options)
    {
        /// <summary>The "SfcProxy:Dsr" section (the options must carry the DSR module's section).</summary>
        public DsrOptions Dsr => options.Section<DsrOptions>();
    }
}
