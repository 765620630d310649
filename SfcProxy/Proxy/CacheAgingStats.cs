namespace SfcProxy.Proxy;

/// <summary>What the cache aging service has done so far (read by the control socket).</summary>
public interface ICacheAgingStats
{
    /// <summary>Entries aged out since the daemon started (packets the VNF dropped).</summary>
    long AgedOut { get; }

    /// <summary>Completed sweeps.</summary>
    long Sweeps { get; }

    /// <summary>Entries the last sweep read (cache occupancy at that time).</summary>
    int LastSweepScanned { get; }

    /// <summary>Entries the last sweep aged out.</summary>
    int LastSweepAgedOut { get; }

    /// <summary>How long the last sweep took.</summary>
    TimeSpan LastSweepDuration { get; }

    /// <summary>When the last sweep ended; null before the first.</summary>
    DateTimeOffset? LastSweepAt { get; }
}

/// <summary>Thread-safe running totals, written by <see cref="CacheAgingService"/>.</summary>
public sealed class CacheAgingStats : ICacheAgingStats
{
    private readonly Lock _lock = new();
    private long _agedOut, _sweeps;
    private CacheSweepResult _last;
    private DateTimeOffset? _lastAt;

    public long AgedOut { get { lock (_lock) return _agedOut; } }
    public long Sweeps { get { lock (_lock) return _sweeps; } }
    public int LastSweepScanned { get { lock (_lock) return _last.Scanned; } }
    public int LastSweepAgedOut { get { lock (_lock) return _last.AgedOut; } }
    public TimeSpan LastSweepDuration { get { lock (_lock) return _last.Elapsed; } }
    public DateTimeOffset? LastSweepAt { get { lock (_lock) return _lastAt; } }

    internal void Record(CacheSweepResult sweep, DateTimeOffset at)
    {
        lock (_lock)
        {
            _agedOut += sweep.AgedOut;
            _sweeps++;
            _last = sweep;
            _lastAt = at;
        }
    }
}
