using SfcProxy.Configuration;

namespace SfcProxy.Hosting;

/// <summary>
/// A module's part of SIGHUP: <see cref="InstanceReload"/> reads and validates the file once, reports
/// what needs a restart, and hands the module the running options and the file's.
/// </summary>
internal interface IModuleReload
{
    /// <summary>The module's fields that only a restart changes, by path below "SfcProxy", with how to read each.</summary>
    IReadOnlyList<(string Field, Func<SfcProxyOptions, object?> Value)> RestartOnly { get; }

    /// <summary>Copies what can change live from <paramref name="next"/> into <paramref name="running"/>
    /// (the object every service reads) and applies it.</summary>
    void Apply(SfcProxyOptions running, SfcProxyOptions next);

    /// <summary>True when the module's "Reloaded" line also states the log level (so the core does not add its own).</summary>
    bool ReportsLogLevel => true;
}
