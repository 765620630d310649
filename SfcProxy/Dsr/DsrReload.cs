using Microsoft.Extensions.Logging;
using SfcProxy.Configuration;
using SfcProxy.Hosting;

namespace SfcProxy.Dsr;

/// <summary>
/// The DSR load balancer's part of SIGHUP: the file's <c>Dsr:Services</c> become the config in force
/// and the live changes it did not replace stay on top (<see cref="DsrOverlay"/>); a backend the new
/// table no longer has starts removing. Every other Dsr field shapes the attachment: a change there is
/// reported as needing a restart (the section is restart-only but for its services).
/// </summary>
internal sealed partial class DsrReload(ActiveDsr dsr, ILogger<DsrReload> log) : IModuleReload
{
    public IReadOnlyList<(string Field, Func<SfcProxyOptions, object?> Value)> RestartOnly { get; } = [];

    public bool ReportsLogLevel => false;

    public void Apply(SfcProxyOptions running, SfcProxyOptions next)
    {
        if (!next.Dsr.Enabled)
        {
            LogNotTurnedOff();
            return;
        }
        var (replaced, error) = dsr.Reconfigure(next.Dsr.ToServiceConfigs());
        if (error is not null)
            throw new InvalidOperationException($"SfcProxy:Dsr:Services not applied, the tables in force are unchanged: {error}");
        running.Dsr.Services = next.Dsr.Services;
        LogReloaded(running.Dsr.Services.Count, dsr.LiveChanges.Count, replaced.Count);
    }

    [LoggerMessage(EventId = EventIds.DsrReloaded, Level = LogLevel.Information,
        Message = "Reloaded DSR services: {Services} services from the file, {Live} live changes kept on top, {Replaced} replaced by the file")]
    private partial void LogReloaded(int services, int live, int replaced);

    [LoggerMessage(EventId = EventIds.DsrNotTurnedOff, Level = LogLevel.Warning,
        Message = "Reload: the file names no SfcProxy:Dsr:Services; turning the load balancer off needs a restart; keeping what runs")]
    private partial void LogNotTurnedOff();
}
