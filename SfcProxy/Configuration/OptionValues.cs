using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Configuration;

/// <summary>Config-file spellings of the enum-valued options.</summary>
internal static class OptionValues
{
    public static readonly NamedValues<Encapsulation> Encapsulations = new(("mpls", Encapsulation.Mpls), ("nsh", Encapsulation.Nsh), ("srv6", Encapsulation.Srv6));

    /// <summary>Srv6:Sids:N:Inner spellings: the inner packets a proxy SID serves.</summary>
    public static readonly NamedValues<Srv6Inner> Srv6Inners = new(
        ("ipv4", Srv6Inner.IPv4),
        ("ipv6", Srv6Inner.IPv6),
        ("ethernet", Srv6Inner.Ethernet));

    public static readonly NamedValues<KeyMode> KeyModes = new(
        ("metadata", KeyMode.Metadata),
        ("header-hash", KeyMode.HeaderHash));

    public static readonly NamedValues<MissPolicy> MissPolicies = new(
        ("drop", MissPolicy.Drop),
        ("pass", MissPolicy.Pass),
        ("static", MissPolicy.Static));

    public static readonly NamedValues<Microsoft.Extensions.Logging.LogLevel> LogLevels = new(
        ("debug", Microsoft.Extensions.Logging.LogLevel.Debug),
        ("information", Microsoft.Extensions.Logging.LogLevel.Information),
        ("warning", Microsoft.Extensions.Logging.LogLevel.Warning),
        ("error", Microsoft.Extensions.Logging.LogLevel.Error));

    public static readonly NamedValues<MetaFingerprint> Fingerprints = new(
        ("strict", MetaFingerprint.Strict),
        ("nat", MetaFingerprint.Nat));

    public static readonly NamedValues<XdpMode> XdpModes = new(
        ("native", XdpMode.Native),
        ("generic", XdpMode.Generic));
}
