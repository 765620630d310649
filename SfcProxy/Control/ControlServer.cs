using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Hosting;
using SfcProxy.Policy;
using SfcProxy.Proxy;

namespace SfcProxy.Control;

/// <summary>
/// Serves the control protocol on the instance's Unix socket. Every client runs in its own session
/// task, so a slow or silent client only ever holds up itself.
/// </summary>
/// <param name="logLevel">The switch the <c>log-level</c> request turns; a private one when not given.</param>
/// <param name="policy">The policy module the policy-* requests go to; none when the instance runs without it.</param>
/// <param name="dsr">The DSR load balancer the dsr-* requests go to; none when the instance runs without it.</param>
public sealed partial class ControlServer(
    IOptions<SfcProxyOptions> options, IProxyDatapath datapath, TimeProvider time, ILogger<ControlServer> logger,
    LogLevelSwitch? logLevel = null, ActivePolicy? policy = null, SfcProxy.Dsr.ActiveDsr? dsr = null)
    : BackgroundService
{
    /// <summary>Sessions beyond this are refused, which bounds the memory clients can pin.</summary>
    internal const int MaxSessions = 1024;
    /// <summary>As deep as the session limit: a burst of connects waits in the queue instead of failing with EAGAIN.</summary>
    private const int Backlog = MaxSessions;

    private readonly string _socketPath = options.Value.SocketPath;
    private readonly ConcurrentDictionary<Task, byte> _sessions = new();
    private Socket? _listener;
    private ControlRequestHandler? _handler;

    /// <summary>Idle and write timeouts of every session; tests shorten them.</summary>
    internal ControlSessionLimits Limits { get; init; } = ControlSessionLimits.Default;

    /// <summary>Sessions open now.</summary>
    internal int SessionCount => _sessions.Count;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _handler = new ControlRequestHandler(options.Value, datapath, time, time.GetTimestamp(),
            logLevel ?? new LogLevelSwitch(), logger, policy, dsr);
        string? group = options.Value.Socket.Group;
        uint? gid = group is null
            ? null
            : UnixGroup.IdOf(group) ?? throw new InvalidOperationException($"SfcProxy:Socket:Group: group '{group}' does not exist");
        _listener = ControlSocketFile.Listen(_socketPath, Backlog, gid);
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
                // Transient (EMFILE, aborted handshake): keep serving the others.
                LogAcceptFailed(e.SocketErrorCode);
                continue;
            }

            if (_sessions.Count >= MaxSessions)
            {
                LogTooManySessions(MaxSessions);
                _ = RefuseAsync(client);
                continue;
            }
            Track(RunSessionAsync(client, stoppingToken));
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
        ControlSocketFile.Remove(_socketPath);
        LogClosed(_socketPath);
    }

    private void Track(Task session)
    {
        _sessions.TryAdd(session, 0);
        // Continuation runs after the add even if the session already finished.
        session.ContinueWith(t => _sessions.TryRemove(t, out _), TaskScheduler.Default);
    }

    private async Task RunSessionAsync(Socket client, CancellationToken stoppingToken)
    {
        // Yield first so the accept loop never runs a session's synchronous part.
        await Task.Yield();
        try
        {
            await new ControlSession(client, _handler!, Limits, logger).RunAsync(stoppingToken);
        }
        catch (Exception e)
        {
            LogSessionFailed(e);
        }
    }

    private static async Task RefuseAsync(Socket client)
    {
        using (client)
        {
            try
            {
                await client.SendAsync(ControlRequestHandler.Error("too many clients; try again later"));
            }
            catch (SocketException)
            {
            }
        }
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Control socket listening on {Path}, group {Group}")]
    private partial void LogListening(string path, string group);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Control socket {Path} closed and removed")]
    private partial void LogClosed(string path);

    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Accepting a control client failed: {Error}")]
    private partial void LogAcceptFailed(SocketError error);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Refused a control client: {Max} sessions already open")]
    private partial void LogTooManySessions(int max);

    [LoggerMessage(EventId = 204, Level = LogLevel.Error, Message = "Control session failed")]
    private partial void LogSessionFailed(Exception exception);
}
