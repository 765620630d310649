using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Bpf;
using SfcProxy.Configuration;
using SfcProxy.Control;

namespace SfcProxy.Hosting;

/// <summary>
/// The first hosted service to start and the last to stop: takes the instance's lock
/// (<see cref="InstanceLock"/>) before any module loads or attaches anything, and refuses a socket
/// path that holds something else than a stale socket while nothing has been touched yet. Releases
/// the lock after every other service has stopped; a pin directory it made for the lock and that is
/// still empty then (a start that failed) is removed again.
/// </summary>
public sealed partial class InstanceOwnership(IOptions<SfcProxyOptions> options, ILogger<InstanceOwnership> log) : IHostedService, IDisposable
{
    private InstanceLock? _lock;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        BpfEnvironment.EnsureReady(o.PinRoot);
        _lock = InstanceLock.Acquire(o.PinRoot, o.Instance);
        LogOwned(o.Instance, _lock.Directory, Environment.ProcessId);
        ControlSocketFile.EnsureUsable(o.SocketPath);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Release();
        return Task.CompletedTask;
    }

    public void Dispose() => Release();

    private void Release()
    {
        var held = Interlocked.Exchange(ref _lock, null);
        if (held is null)
            return;
        try
        {
            if (held.MadeDirectory && Directory.Exists(held.Directory) && !Directory.EnumerateFileSystemEntries(held.Directory).Any())
                Directory.Delete(held.Directory);
        }
        catch (IOException e)
        {
            LogDirectoryKept(held.Directory, e.Message);
        }
        held.Dispose();
    }

    [LoggerMessage(EventId = EventIds.InstanceOwned, Level = LogLevel.Information,
        Message = "SfcProxy instance {Instance}: owned by this daemon (pid {Pid}), lock on {Directory}")]
    private partial void LogOwned(string instance, string directory, int pid);

    [LoggerMessage(EventId = EventIds.InstanceDirectoryKept, Level = LogLevel.Warning, Message = "could not remove the empty pin directory {Directory}: {Reason}")]
    private partial void LogDirectoryKept(string directory, string reason);
}
