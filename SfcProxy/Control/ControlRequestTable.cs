using System.Buffers;
using Microsoft.Extensions.Logging;
using SfcProxy.Hosting;

namespace SfcProxy.Control;

/// <summary>
/// Answers request lines of the control protocol by sending each to the module that claims its
/// name. Never throws for bad input: a name the protocol does not have, or one of a module this
/// instance does not run, is answered with an error that says so.
/// </summary>
internal sealed partial class ControlRequestTable
{
    private readonly Dictionary<string, (IControlModule Module, ControlRequestRule Rule)> _requests = new(StringComparer.Ordinal);
    private readonly LogThrottle _badText;
    private readonly TimeProvider _time;
    private readonly long _servingSince;
    private readonly ILogger _logger;

    /// <param name="modules">The configured modules' handlers, the core's included.</param>
    /// <param name="instance">The instance's name.</param>
    /// <exception cref="InvalidOperationException">A request claimed twice, or a name the protocol does not have.</exception>
    public ControlRequestTable(IEnumerable<IControlModule> modules, string instance, TimeProvider time, ILogger logger)
    {
        foreach (var module in modules)
        {
            foreach (var rule in module.Requests)
            {
                if (ControlProtocol.ModuleOf(rule.Name) is null)
                    throw new InvalidOperationException($"{module.GetType().Name} claims request '{rule.Name}', which the control protocol does not have");
                if (!_requests.TryAdd(rule.Name, (module, rule)))
                    throw new InvalidOperationException(
                        $"request '{rule.Name}' is claimed by both {_requests[rule.Name].Module.GetType().Name} and {module.GetType().Name}");
            }
        }
        // In the protocol's order, so the status answer adds the modules' fields in the same order
        // whatever the order the modules were registered in.
        Modules = _requests.Values.Select(r => r.Module).Distinct()
            .OrderBy(m => m.Requests.Min(r => Array.IndexOf(ControlProtocol.Requests, r.Name))).ToArray();
        Instance = instance;
        _time = time;
        _servingSince = time.GetTimestamp();
        _badText = new LogThrottle(TimeSpan.FromSeconds(10), time);
        _logger = logger;
    }

    /// <summary>The modules that answer requests here, in the protocol's order.</summary>
    public IReadOnlyList<IControlModule> Modules { get; }

    public string Instance { get; }

    /// <summary>Seconds since the control socket started serving.</summary>
    public double UptimeSeconds => Math.Round(_time.GetElapsedTime(_servingSince).TotalSeconds, 3);

    /// <summary>Writes the answer to <paramref name="line"/>, newline included, into <paramref name="output"/>.</summary>
    public async Task AnswerAsync(ReadOnlySequence<byte> line, PeerCredentials peer, SessionOutput output, CancellationToken cancellationToken)
    {
        if (!ControlRequest.TryParse(line, out var request, out string error))
        {
            if (error == ControlRequest.InvalidText && _badText.ShouldLog(out var unlogged))
                LogInvalidText(peer.Uid, peer.Pid, unlogged);
            output.Write(ControlAnswer.Error(error));
            return;
        }
        string name = request.Name;
        if (!_requests.TryGetValue(name, out var handler))
        {
            if (ControlProtocol.RootOnly.Contains(name) && !peer.IsRoot)
            {
                LogRefused(name, peer.Uid, peer.Pid);
                output.Write(ControlAnswer.Error($"{name} needs root ({peer})"));
                return;
            }
            output.Write(ControlAnswer.Error(ControlProtocol.ModuleOf(name) is { } contract
                ? contract.NotEnabled(name)
                : $"unknown request '{name}' (accepted: {string.Join(", ", ControlProtocol.Requests)})"));
            return;
        }
        if (handler.Rule.NeedsRoot && !peer.IsRoot)
        {
            LogRefused(name, peer.Uid, peer.Pid);
            output.Write(ControlAnswer.Error($"{name} needs root ({peer})"));
            return;
        }
        try
        {
            await handler.Module.AnswerAsync(new ControlCall(request, peer, output, this), cancellationToken);
        }
        catch (Exception e) when (e is not (OperationCanceledException or TimeoutException))
        {
            // A datapath read failing (map gone, not attached) is the instance's problem, not the
            // client's; report it on this line and keep serving. Modules read before they write
            // (cache-dump included), so no part of this request's answer went out before. Stopping
            // and a client that takes no output end the session instead.
            output.Write(ControlAnswer.Error($"{name} unavailable: {e.Message}"));
        }
    }

    [LoggerMessage(EventId = EventIds.RequestNeedsRoot, Level = LogLevel.Warning, Message = "Refused control request {Request} from uid {Uid} (pid {Pid}): needs root")]
    private partial void LogRefused(string request, uint uid, int pid);

    [LoggerMessage(EventId = EventIds.BadRequestText, Level = LogLevel.Information,
        Message = "Control client uid {Uid} (pid {Pid}) sent a request that is not valid text (invalid UTF-8 or a lone surrogate); answered with an error ({Unlogged} more since the last such line)")]
    private partial void LogInvalidText(uint uid, int pid, int unlogged);
}
