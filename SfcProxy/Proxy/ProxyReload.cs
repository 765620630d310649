using Microsoft.Extensions.Logging;
using SfcProxy.Configuration;
using SfcProxy.Hosting;
using SfcProxy.Proxy.Options;

namespace SfcProxy.Proxy;

/// <summary>
/// The SFC proxy's part of SIGHUP (<see cref="InstanceReload"/> reads and validates the file): applies
/// what can change while attached (miss policy, static stack, consumed segments, encapsulations, NSH
/// next hop, cache max age, latency sampling) without detaching. Fields that shape the attachment (key
/// mode, interfaces, XDP mode, cache size, mark mask, GRO) are reported as needing a restart and kept.
/// </summary>
internal sealed partial class ProxyReload(IProxyDatapath datapath, ILogger<ProxyReload> log) : IModuleReload
{
    public IReadOnlyList<(string Field, Func<SfcProxyOptions, object?> Value)> RestartOnly { get; } =
    [
        ("KeyMode", o => o.KeyMode),
        ("Interfaces:Ingress", o => o.Interfaces.Ingress),
        ("Interfaces:Egress", o => o.Interfaces.Egress),
        ("Interfaces:Vnf", o => o.Interfaces.Vnf),
        ("XdpMode", o => o.XdpMode),
        ("Cache:Size", o => o.Cache.Size),
        ("Metadata:MarkMask", o => MetadataOptions.Format(o.Metadata.MarkMask)),
        ("Metadata:Fingerprint", o => o.Metadata.Fingerprint),
        ("DisableGro", o => o.DisableGro),
    ];

    public void Apply(SfcProxyOptions running, SfcProxyOptions next)
    {
        running.MissPolicy = next.MissPolicy;
        running.StaticStack = next.StaticStack;
        running.ConsumedSegments = next.ConsumedSegments;
        running.Encapsulations = next.Encapsulations;
        running.Nsh = next.Nsh;
        running.Srv6 = next.Srv6;
        running.Cache.MaxAge = next.Cache.MaxAge;
        running.LatencySampleEvery = next.LatencySampleEvery;
        datapath.Reconfigure(running);
        LogReloaded(OptionValues.MissPolicies.NameOf(running.MissPolicy), running.ConsumedSegments, running.Cache.MaxAge,
            OptionValues.LogLevels.NameOf(running.LogLevel));
    }

    [LoggerMessage(EventId = Hosting.EventIds.Reloaded, Level = LogLevel.Information,
        Message = "Reloaded: miss policy {MissPolicy}, consumed segments {Consumed}, max age {MaxAge}, log level {LogLevel}")]
    private partial void LogReloaded(string missPolicy, int consumed, TimeSpan maxAge, string logLevel);
}
