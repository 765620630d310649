using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Hosting;

namespace SfcProxy.Control;

/// <summary>
/// Serves the control protocol on the instance's Unix socket. Every client runs in its own session
/// task, so a slow or silent client only ever holds up itself.
/// </summary>
/// <param name="modules">The request handlers of the core and of each configured module.</param>
internal sealed partial class ControlServer(
    IOptions<SfcProxyOptions> options, IEnumerable<IControlModule> modules, TimeProvider time, ILogger<ControlServer> logger)
    : BackgroundService
{
    /// <summary>A burst of connects waits in the queue instead of failing with EAGAIN (the kernel caps
    /// it at net.core.somaxconn, 4096 by default); the accept loop refuses what is over the limits at once.</summary>
    private const int Backlog = 4096;
    /// <summary>What a refused client may have sent already is read (up to this much) before the close,
    /// so the kernel does not reset the connection and the client reads the refusal line.</summary>
    private const int RefusalDrainBytes = 64 * 1024;

    private readonly string _socketPath = options.Value.SocketPath;
    private readonly ConcurrentDictionary<Task, byte> _sessions = new();
    private readonly LogThrottle _refusals = new(TimeSpan.FromSeconds(10), time);
    private readonly LogThrottle _acceptFailures = new(TimeSpan.FromSeconds(10), time);
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(50);
    private Socket? _listener;
    private FileStatus _socketFile;
    private ControlRequestTable? _requests;
    private SessionAdmission? _admission;

    /// <summary>Timeouts and session limits; tests shorten them.</summary>
    internal ControlSessionLimits Limits { get; init; } = ControlSessionLimits.Default;

    /// <summary>Sessions open now.</summary>
    internal int SessionCount => _sessions.Count;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _requests = new ControlRequestTable(modules, options.Value.Instance, time, logger);
        string? group = options.Value.Socket.Group;
        uint? gid = group is null
            ? null
            : UnixGroup.IdOf(group) ?? throw new InvalidOperationException($"SfcProxy:Socket:Group: group '{group}' does not exist");
        _admission = new SessionAdmission(Limits);
        (_listener, _socketFile) = ControlSocketFile.Listen(_socketPath, Backlog, gid);
        LogListening(_socketPath, group ?? "(owner's)");
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listener = _listener!;
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException e)
            {
                // Transient (EMFILE, aborted handshake): keep serving the others. Out of descriptors
                // the same accept fails again at once, so pause instead of spinning, and log rarely.
                if (_acceptFailures.ShouldLog(out var unlogged))
                    LogAcceptFailed(e.SocketErrorCode, unlogged);
                try
                {
                    await Task.Delay(AcceptRetryDelay, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                continue;
            }

            // Taken once: SO_PEERCRED describes whoever called connect(), which cannot change.
            var peer = PeerCredentials.Of(client);
            if (_admission!.TryAdmit(peer) is { } refusal)
            {
                Refuse(client, refusal);
                if (_refusals.ShouldLog(out var unlogged))
                    LogRefused(peer.Uid, peer.Pid, refusal, unlogged);
                continue;
            }
            Track(RunSessionAsync(client, peer, stoppingToken));
        }
        await Task.WhenAll(_sessions.Keys);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken);
        }
        finally
        {
            CloseListener();
        }
    }

    public override void Dispose()
    {
        CloseListener();
        base.Dispose();
    }

    private void CloseListener()
    {
        var listener = Interlocked.Exchange(ref _listener, null);
        if (listener is null)
            return;
        listener.Dispose();
        ControlSocketFile.Remove(_socketPath, _socketFile);
        LogClosed(_socketPath);
    }

    private void Track(Task session)
    {
        _sessions.TryAdd(session, 0);
        // Continuation runs after the add even if the session already finished.
        session.ContinueWith(t => _sessions.TryRemove(t, out _), TaskScheduler.Default);
    }

    private async Task RunSessionAsync(Socket client, PeerCredentials peer, CancellationToken stoppingToken)
    {
        // Yield first so the accept loop never runs a session's synchronous part.
        await Task.Yield();
        try
        {
            await new ControlSession(client, peer, _requests!, Limits, logger).RunAsync(stoppingToken);
        }
        catch (Exception e)
        {
            LogSessionFailed(peer.Uid, e.GetType().Name, e.Message);
        }
        finally
        {
            _admission!.Release(peer);
        }
    }

    /// <summary>
    /// Tells the client why and closes, without waiting on it: the line fits the empty send buffer.
    /// Both directions are shut first (the client's further writes fail with EPIPE), then what it
    /// sent before is read: closing with unread input would reset the connection and the client
    /// would never see the line.
    /// </summary>
    private static void Refuse(Socket client, string reason)
    {
        using (client)
        {
            try
            {
                client.Blocking = false;
                client.Send(ControlAnswer.Error(reason));
                client.Shutdown(SocketShutdown.Both);
                Span<byte> sink = stackalloc byte[4096];
                for (var drained = 0; drained < RefusalDrainBytes && client.Available > 0;)
                {
                    var n = client.Receive(sink);
                    if (n <= 0)
                        break;
                    drained += n;
                }
            }
            catch (SocketException)
            {
                // The client is gone already.
            }
        }
    }

    [LoggerMessage(EventId = EventIds.SocketListening, Level = LogLevel.Information, Message = "Control socket listening on {Path}, group {Group}")]
    private partial void LogListening(string path, string group);

    [LoggerMessage(EventId = EventIds.SocketClosed, Level = LogLevel.Information, Message = "Control socket {Path} closed and removed")]
    private partial void LogClosed(string path);

    [LoggerMessage(EventId = EventIds.AcceptFailed, Level = LogLevel.Warning, Message = "Accepting a control client failed: {Error} ({Unlogged} more since the last such line)")]
    private partial void LogAcceptFailed(SocketError error, int unlogged);

    [LoggerMessage(EventId = EventIds.SessionRefused, Level = LogLevel.Warning,
        Message = "Refused a control client, uid {Uid} (pid {Pid}): {Reason} ({Unlogged} more refusals since the last such line)")]
    private partial void LogRefused(uint uid, int pid, string reason, int unlogged);

    [LoggerMessage(EventId = EventIds.SessionFailed, Level = LogLevel.Error, Message = "Control session of uid {Uid} failed: {Error}: {Reason}")]
    private partial void LogSessionFailed(uint uid, string error, string reason);
}
