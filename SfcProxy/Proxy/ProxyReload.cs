using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Proxy.Options;
using SfcProxy.Hosting;

namespace SfcProxy.Proxy;

/// <summary>
/// SIGHUP (`systemctl reload`): re-reads the config file and applies what can change while attached
/// (miss policy, static stack, consumed segments, encapsulations, NSH next hop, cache max age, log
/// level) without detaching. Fields that shape the attachment (instance, key mode, interfaces, XDP
/// mode, cache size, pin root, GRO, socket) are reported as needing a restart and kept, and so is
/// any change to the policy and DSR modules' sections (they are set up at start; the policy files'
/// contents are re-read by `sfcproxy policy apply`). An invalid file changes nothing.
/// </summary>
internal sealed partial class ProxyReload(
    IConfiguration configuration, IOptions<SfcProxyOptions> running, IOptionsFactory<SfcProxyOptions> reread,
    IProxyDatapath datapath, LogLevelSwitch logLevel, ILogger<ProxyReload> log) : IReloadHook
{
    /// <summary>What needs a restart to change, by config path.</summary>
    private static readonly (string Field, Func<SfcProxyOptions, object?> Value)[] RestartOnly =
    [
        ("Instance", o => o.Instance),
        ("KeyMode", o => o.KeyMode),
        ("Interfaces:Ingress", o => o.Interfaces.Ingress),
        ("Interfaces:Egress", o => o.Interfaces.Egress),
        ("Interfaces:Vnf", o => o.Interfaces.Vnf),
        ("XdpMode", o => o.XdpMode),
        ("Cache:Size", o => o.Cache.Size),
        ("Metadata:MarkMask", o => MetadataOptions.Format(o.Metadata.MarkMask)),
        ("Metadata:Fingerprint", o => o.Metadata.Fingerprint),
        ("PinRoot", o => o.PinRoot),
        ("DisableGro", o => o.DisableGro),
        ("Socket:Path", o => o.SocketPath),
        ("Socket:Group", o => o.Socket.Group),
    ];

    /// <summary>Module sections that only a restart applies, by config path.</summary>
    private static readonly string[] RestartOnlySections = ["Policy", "Dsr"];

    /// <summary>The module sections as the daemon started with them (what is running).</summary>
    private readonly Dictionary<string, string> _modulesAtStart = ModuleSections(configuration);

    public void Reload()
    {
        (configuration as IConfigurationRoot)?.Reload();
        // A fresh options object, bound and validated as at start (every module's section included).
        SfcProxyOptions next;
        try
        {
            next = reread.Create(Microsoft.Extensions.Options.Options.DefaultName);
        }
        catch (OptionsValidationException e)
        {
            throw new InvalidOperationException("the config file has errors; nothing reloaded:" + Environment.NewLine +
                                                string.Join(Environment.NewLine, e.Failures));
        }

        var current = running.Value;
        foreach (var (field, value) in RestartOnly)
        {
            if (!Equals(value(current), value(next)))
                LogNeedsRestart(field, value(current)?.ToString() ?? "(none)", value(next)?.ToString() ?? "(none)");
        }
        var modules = ModuleSections(configuration);
        foreach (var section in RestartOnlySections)
        {
            var changed = modules.Where(kv => kv.Key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase) || kv.Key == section)
                .Concat(_modulesAtStart.Where(kv => kv.Key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase) || kv.Key == section))
                .Where(kv => _modulesAtStart.GetValueOrDefault(kv.Key) != modules.GetValueOrDefault(kv.Key))
                .Select(kv => kv.Key).Distinct().Order(StringComparer.Ordinal).ToList();
            if (changed.Count > 0)
                LogModuleNeedsRestart(section, string.Join(", ", changed.Select(k => $"SfcProxy:{k}")));
        }

        // The running options object is the one every service reads (status, aging), so the
        // reloadable fields are changed in place, then pushed into the datapath.
        current.MissPolicy = next.MissPolicy;
        current.StaticStack = next.StaticStack;
        current.ConsumedSegments = next.ConsumedSegments;
        current.Encapsulations = next.Encapsulations;
        current.Nsh = next.Nsh;
        current.Cache.MaxAge = next.Cache.MaxAge;
        current.LatencySampleEvery = next.LatencySampleEvery;
        current.LogLevel = next.LogLevel;
        datapath.Reconfigure(current);
        logLevel.Minimum = current.LogLevel;
        LogReloaded(OptionValues.MissPolicies.NameOf(current.MissPolicy), current.ConsumedSegments, current.Cache.MaxAge,
            OptionValues.LogLevels.NameOf(current.LogLevel));
    }

    /// <summary>Every value under the module sections, by path below "SfcProxy" ("Policy:Files:0" -> "/etc/...").</summary>
    private static Dictionary<string, string> ModuleSections(IConfiguration configuration)
    {
        var root = configuration.GetSection(SfcProxyOptions.SectionName);
        var prefix = root.Path + ":";
        return RestartOnlySections
            .SelectMany(name => root.GetSection(name).AsEnumerable())
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value!, StringComparer.OrdinalIgnoreCase);
    }

    [LoggerMessage(EventId = Hosting.EventIds.ReloadModuleNeedsRestart, Level = LogLevel.Warning,
        Message = "Reload: SfcProxy:{Section} changed ({Fields}) but the module is set up at start: needs a restart (systemctl restart); keeping what runs")]
    private partial void LogModuleNeedsRestart(string section, string fields);

    [LoggerMessage(EventId = Hosting.EventIds.Reloaded, Level = LogLevel.Information,
        Message = "Reloaded: miss policy {MissPolicy}, consumed segments {Consumed}, max age {MaxAge}, log level {LogLevel}")]
    private partial void LogReloaded(string missPolicy, int consumed, TimeSpan maxAge, string logLevel);

    [LoggerMessage(EventId = Hosting.EventIds.ReloadNeedsRestart, Level = LogLevel.Warning,
        Message = "Reload: SfcProxy:{Field} changed ({Running} -> {InFile}) but needs a restart; keeping {Running}")]
    private partial void LogNeedsRestart(string field, string running, string inFile);
}
