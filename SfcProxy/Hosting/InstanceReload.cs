using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;

namespace SfcProxy.Hosting;

/// <summary>
/// SIGHUP (`systemctl reload`): re-reads the config file and applies what can change while running,
/// whatever modules the instance runs: the log level here, each module's live fields through its
/// <see cref="IModuleReload"/>. Fields that shape the instance (instance, pin root, socket, and those
/// each module lists) are reported as needing a restart and kept, and so is any change to a module
/// set up at start (policy, DSR: <see cref="IOptionsSection.RestartOnlySection"/>, but for the paths a
/// module applies itself, <see cref="IOptionsSection.LiveSubsections"/>: the DSR services; the policy
/// files' contents are re-read by `sfcproxy policy apply`). An invalid file changes nothing.
/// </summary>
internal sealed partial class InstanceReload(
    IConfiguration configuration, IOptions<SfcProxyOptions> running, IOptionsFactory<SfcProxyOptions> reread,
    IEnumerable<IModuleReload> modules, LogLevelSwitch logLevel, ILogger<InstanceReload> log) : IReloadHook
{
    /// <summary>What needs a restart to change, by config path.</summary>
    private static readonly (string Field, Func<SfcProxyOptions, object?> Value)[] RestartOnly =
    [
        ("Instance", o => o.Instance),
        ("PinRoot", o => o.PinRoot),
        ("StateDirectory", o => o.StateDirectory),
        ("Socket:Path", o => o.SocketPath),
        ("Socket:Group", o => o.Socket.Group),
    ];

    /// <summary>The module sections as the daemon started with them (what is running).</summary>
    private readonly Dictionary<string, string> _modulesAtStart = ModuleSections(configuration, RestartOnlySections(running.Value));

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
        var moduleReloads = modules.ToList();
        foreach (var (field, value) in RestartOnly.Concat(moduleReloads.SelectMany(m => m.RestartOnly)))
        {
            if (!Equals(value(current), value(next)))
                LogNeedsRestart(field, value(current)?.ToString() ?? "(none)", value(next)?.ToString() ?? "(none)");
        }
        var sections = RestartOnlySections(current);
        var moduleValues = ModuleSections(configuration, sections);
        var live = current.Sections.SelectMany(s => s.LiveSubsections).ToList();
        foreach (var section in sections)
        {
            var changed = moduleValues.Where(kv => kv.Key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase) || kv.Key == section)
                .Concat(_modulesAtStart.Where(kv => kv.Key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase) || kv.Key == section))
                .Where(kv => !live.Any(l => kv.Key.StartsWith(l + ":", StringComparison.OrdinalIgnoreCase) || kv.Key.Equals(l, StringComparison.OrdinalIgnoreCase)))
                .Where(kv => _modulesAtStart.GetValueOrDefault(kv.Key) != moduleValues.GetValueOrDefault(kv.Key))
                .Select(kv => kv.Key).Distinct().Order(StringComparer.Ordinal).ToList();
            if (changed.Count > 0)
                LogModuleNeedsRestart(section, string.Join(", ", changed.Select(k => $"SfcProxy:{k}")));
        }

        // The running options object is the one every service reads (status, aging), so the
        // reloadable fields are changed in place; each module then applies its own.
        current.LogLevel = next.LogLevel;
        logLevel.Minimum = current.LogLevel;
        foreach (var module in moduleReloads)
            module.Apply(current, next);
        // A module that reloads says what it applied on its own "Reloaded" line, with the log level if it reports it.
        if (!moduleReloads.Any(m => m.ReportsLogLevel))
            LogReloaded(OptionValues.LogLevels.NameOf(current.LogLevel));
    }

    private static List<string> RestartOnlySections(SfcProxyOptions options) =>
        options.Sections.Select(s => s.RestartOnlySection).OfType<string>().ToList();

    /// <summary>Every value under the module sections, by path below "SfcProxy" ("Policy:Files:0" -> "/etc/...").</summary>
    private static Dictionary<string, string> ModuleSections(IConfiguration configuration, IReadOnlyList<string> sections)
    {
        var root = configuration.GetSection(SfcProxyOptions.SectionName);
        var prefix = root.Path + ":";
        return sections
            .SelectMany(name => root.GetSection(name).AsEnumerable())
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value!, StringComparer.OrdinalIgnoreCase);
    }

    [LoggerMessage(EventId = EventIds.ReloadModuleNeedsRestart, Level = LogLevel.Warning,
        Message = "Reload: SfcProxy:{Section} changed ({Fields}) but the module is set up at start: needs a restart (systemctl restart); keeping what runs")]
    private partial void LogModuleNeedsRestart(string section, string fields);

    [LoggerMessage(EventId = EventIds.ReloadNeedsRestart, Level = LogLevel.Warning,
        Message = "Reload: SfcProxy:{Field} changed ({Running} -> {InFile}) but needs a restart; keeping {Running}")]
    private partial void LogNeedsRestart(string field, string running, string inFile);

    [LoggerMessage(EventId = EventIds.ReloadedLogLevel, Level = LogLevel.Information, Message = "Reloaded: log level {LogLevel}")]
    private partial void LogReloaded(string logLevel);
}
