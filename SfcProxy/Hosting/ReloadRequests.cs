using System.Runtime.InteropServices;

namespace SfcProxy.Hosting;

/// <summary>
/// SIGHUP (`systemctl reload`) from the daemon's first moment: created before anything else in
/// `sfcproxy run`, it keeps SIGHUP from killing the process (its default action) at any point, and
/// turns each one into a pending reload request. <see cref="ReloadService"/> takes the requests once
/// the instance is ready; requests that arrive while one is pending are coalesced into it, so a storm
/// of signals costs a few reloads. The handler stays for the life of the process: a SIGHUP during the
/// stop is ignored.
/// </summary>
public sealed class ReloadRequests
{
    private readonly SemaphoreSlim _pending = new(0, 1);
    private readonly PosixSignalRegistration? _registration;
    private int _received;

    private ReloadRequests(bool listen)
    {
        if (listen)
            _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnHangup);
    }

    /// <summary>Starts listening for SIGHUP; keep the result alive for the life of the process.</summary>
    public static ReloadRequests ListenForSighup() => new(listen: true);

    /// <summary>Requests without a signal handler (tests, hosts that are not the daemon).</summary>
    public static ReloadRequests Manual() => new(listen: false);

    /// <summary>SIGHUPs received so far.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Asks for a reload, as a SIGHUP does.</summary>
    public void Request()
    {
        Interlocked.Increment(ref _received);
        try
        {
            _pending.Release();
        }
        catch (SemaphoreFullException)
        {
            // One is pending already: it will read the file this request wanted read.
        }
    }

    /// <summary>Waits for a pending request and takes it.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _pending.WaitAsync(cancellationToken);

    /// <summary>Takes a pending request if there is one.</summary>
    public bool TryTake() => _pending.Wait(0);

    private void OnHangup(PosixSignalContext context)
    {
        context.Cancel = true;
        Request();
    }
}
