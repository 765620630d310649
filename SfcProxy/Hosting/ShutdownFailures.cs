namespace SfcProxy.Hosting;

/// <summary>
/// Steps of the daemon's stop that failed, collected so that `sfcproxy run` exits non-zero and
/// prints them after the host is gone: a stop that left something behind must not look clean to
/// systemd or to the operator.
/// </summary>
public sealed class ShutdownFailures
{
    private readonly List<string> _failures = [];

    public void Add(string failure)
    {
        lock (_failures)
            _failures.Add(failure);
    }

    public IReadOnlyList<string> All
    {
        get
        {
            lock (_failures)
                return [.. _failures];
        }
    }
}
