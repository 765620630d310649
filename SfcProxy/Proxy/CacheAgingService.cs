using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Bpf;
using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// Sweeps the header cache every <see cref="IntervalFor"/>(Cache:MaxAge) and deletes entries older
/// than Cache:MaxAge (packets the VNF dropped; rules in <see cref="CacheAging"/>). Header-hash mode
/// only: in metadata mode the datapath ages on its own (slot takeover) and this service just says so. Registered after
/// <see cref="ProxyService"/>, so it starts once the datapath is attached and stops before it
/// detaches; while the datapath is not attached a tick does nothing.
/// </summary>
public sealed partial class CacheAgingService(
    IProxyDatapath datapath, IOptions<SfcProxyOptions> options, CacheAgingStats stats, TimeProvider time,
    ILogger<CacheAgingService> logger) : BackgroundService
{
    // KeyMode needs a restart, so SIGHUP never changes who ages the cache.
    private readonly ICacheKeyMode _keyMode = ICacheKeyMode.For(options.Value.KeyMode);

    /// <summary>Bounds of the sweep interval.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(100), MaxInterval = TimeSpan.FromSeconds(5);

    /// <summary>A sweep that ages out at least this many entries is logged at Information.</summary>
    public const int BigSweep = 1000;

    /// <summary>
    /// maxAge / 2, clamped to [100 ms, 5 s]: an entry is deleted between maxAge and
    /// maxAge + interval after its pop (at most 1.5 x maxAge for maxAge up to 10 s).
    /// </summary>
    public static TimeSpan IntervalFor(TimeSpan maxAge) =>
        TimeSpan.FromTicks(Math.Clamp(maxAge.Ticks / 2, MinInterval.Ticks, MaxInterval.Ticks));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var maxAge = options.Value.Cache.MaxAge;
        if (_keyMode.AgesInDatapath)
        {
            // The host must not write the slots (CacheAging); reading them all would cost a pass
            // over the whole array per interval for a log line. meta_aged_out counts the takeovers.
            LogAgingInDatapath(maxAge);
            return;
        }
        var interval = IntervalFor(maxAge);
        LogAgingStarted(maxAge, interval);
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // SIGHUP may have changed Cache:MaxAge in the running options.
                var current = options.Value.Cache.MaxAge;
                if (current != maxAge)
                {
                    (maxAge, interval) = (current, IntervalFor(current));
                    timer.Period = interval;
                    LogAgingStarted(maxAge, interval);
                }
                SweepOnce(maxAge);
            }
        }
        catch (OperationCanceledException)
        {
            // Host is stopping.
        }
    }

    /// <summary>One tick: sweep, record, log. Failures are logged and the next tick tries again.</summary>
    internal void SweepOnce(TimeSpan maxAge)
    {
        CacheSweepResult? result;
        try
        {
            result = datapath.SweepCache(maxAge);
        }
        catch (Exception e) when (e is BpfException or InvalidOperationException or ObjectDisposedException)
        {
            LogSweepFailed(e);
            return;
        }
        if (result is not { } sweep)
            return; // not attached
        stats.Record(sweep, time.GetUtcNow());
        if (sweep.AgedOut >= BigSweep)
            LogBigSweep(sweep.AgedOut, sweep.Scanned, sweep.Elapsed.TotalMilliseconds, stats.AgedOut);
        else
            LogSweep(sweep.AgedOut, sweep.Scanned, sweep.Elapsed.TotalMilliseconds, stats.AgedOut);
    }

    [LoggerMessage(EventId = Hosting.EventIds.AgingStarted, Level = LogLevel.Information,
        Message = "Cache aging: entries older than {MaxAge} are aged out, sweep every {Interval}")]
    private partial void LogAgingStarted(TimeSpan maxAge, TimeSpan interval);

    [LoggerMessage(EventId = Hosting.EventIds.AgingInDatapath, Level = LogLevel.Information,
        Message = "Cache aging: metadata key mode ages in the datapath (a slot older than {MaxAge} is taken over when its ring comes round, counted meta_aged_out); no host sweeps")]
    private partial void LogAgingInDatapath(TimeSpan maxAge);

    [LoggerMessage(EventId = Hosting.EventIds.CacheSwept, Level = LogLevel.Debug,
        Message = "Cache sweep: {AgedOut} aged out of {Scanned} in {ElapsedMs:0.0} ms ({Total} in total)")]
    private partial void LogSweep(int agedOut, int scanned, double elapsedMs, long total);

    [LoggerMessage(EventId = Hosting.EventIds.CacheSweptMany, Level = LogLevel.Information,
        Message = "Cache sweep: {AgedOut} entries aged out of {Scanned} in {ElapsedMs:0.0} ms ({Total} in total); the VNF is dropping packets")]
    private partial void LogBigSweep(int agedOut, int scanned, double elapsedMs, long total);

    [LoggerMessage(EventId = Hosting.EventIds.CacheSweepFailed, Level = LogLevel.Warning, Message = "Cache sweep failed; retrying at the next interval")]
    private partial void LogSweepFailed(Exception exception);
}
