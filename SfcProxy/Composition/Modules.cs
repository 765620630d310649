using SfcProxy.Configuration;
using SfcProxy.Dsr;
using SfcProxy.Policy;
using SfcProxy.Proxy.Options;

namespace SfcProxy.Composition;

/// <summary>The modules an instance can run: each one's part of the "SfcProxy" section.</summary>
internal static class Modules
{
    /// <summary>
    /// A fresh section of every module, in the order they are bound and checked: the SFC proxy first,
    /// so a later module that takes its XDP interface is the one the failure names.
    /// </summary>
    public static IEnumerable<IOptionsSection> OptionsSections() => [new ProxySection(), new PolicyOptions(), new DsrOptions()];

    /// <summary>Unbound root options carrying every module's section.</summary>
    public static SfcProxyOptions NewOptions()
    {
        var options = new SfcProxyOptions();
        options.Sections.AddRange(OptionsSections());
        return options;
    }
}
