using Microsoft.Extensions.Logging;
using SfcProxy.Control;
using SfcProxy.Hosting;

namespace SfcProxy.Dsr;

/// <summary>
/// The DSR load balancer's control requests: <c>dsr-status</c> and <c>dsr-backend</c> (root only).
/// Its metric families are <see cref="DsrMetrics"/>.
/// </summary>
/// <param name="logger">The control server's: control events keep one logger category whichever module answers.</param>
internal sealed partial class DsrControl(ActiveDsr dsr, ILogger<ControlServer> logger) : IControlModule
{
    public IReadOnlyList<ControlRequestRule> Requests { get; } =
    [
        new(ControlProtocol.DsrStatus),
        new(ControlProtocol.DsrBackend, NeedsRoot: true),
    ];

    public Task AnswerAsync(ControlCall call, CancellationToken cancellationToken)
    {
        if (call.Name == ControlProtocol.DsrStatus)
            call.Answer(Status());
        else
            ChangeBackend(call);
        return Task.CompletedTask;
    }

    private byte[] Status() => ControlAnswer.Of(DsrStatusAnswer.From(dsr), DsrJsonContext.Default.DsrStatusAnswer);

    private void ChangeBackend(ControlCall call)
    {
        if (DsrBackendChange.Parse(call.Request, out string error) is not { } change)
        {
            call.Refuse(error);
            return;
        }
        LogBackendRequested(change.Action, change.Address.ToString(), call.Peer.Uid, call.Peer.Pid);
        var result = change.Action switch
        {
            "add" => dsr.AddBackend(change.Vip, change.Port, change.Protocol, change.Address, change.Weight ?? 1),
            "remove" => dsr.RemoveBackend(change.Vip, change.Port, change.Protocol, change.Address),
            _ => dsr.SetWeight(change.Vip, change.Port, change.Protocol, change.Address, change.Weight!.Value),
        };
        if (!result.Applied)
            call.Refuse($"not applied, the tables in force are unchanged: {result.Error}");
        else
            call.Answer(Status());
    }

    [LoggerMessage(EventId = EventIds.DsrBackendRequested, Level = LogLevel.Warning, Message = "DSR backend {Action} {Backend} requested (by uid {Uid}, pid {Pid})")]
    private partial void LogBackendRequested(string action, string backend, uint uid, int pid);
}
