using Microsoft.Extensions.Logging;
using SfcProxy.Control;
using SfcProxy.Hosting;

namespace SfcProxy.Policy;

/// <summary>The policy module's control requests: <c>policy-status</c>, <c>policy-check</c> and <c>policy-apply</c> (root only). Its metric families are <see cref="PolicyMetrics"/>.</summary>
/// <param name="logger">The control server's: control events keep one logger category whichever module answers.</param>
internal sealed partial class PolicyControl(ActivePolicy policy, ILogger<ControlServer> logger) : IControlModule
{
    public IReadOnlyList<ControlRequestRule> Requests { get; } =
    [
        new(ControlProtocol.PolicyStatus),
        new(ControlProtocol.PolicyApply, NeedsRoot: true),
        new(ControlProtocol.PolicyCheck),
    ];

    public Task AnswerAsync(ControlCall call, CancellationToken cancellationToken)
    {
        switch (call.Name)
        {
            case ControlProtocol.PolicyStatus:
                Status(call);
                break;
            case ControlProtocol.PolicyCheck:
                Check(call);
                break;
            default:
                Apply(call);
                break;
        }
        return Task.CompletedTask;
    }

    private void Status(ControlCall call)
    {
        if (policy.Current is not { } current)
        {
            call.Refuse("no policy applied yet");
            return;
        }
        var hits = policy.RuleHits();
        call.Answer(ControlAnswer.Of(PolicyJson.Status(current, hits), PolicyJsonContext.Default.PolicyStatusAnswer));
    }

    private void Apply(ControlCall call)
    {
        LogApplyRequested(call.Peer.Uid, call.Peer.Pid);
        var result = policy.Apply();
        call.Answer(result.Applied
            ? ControlAnswer.Of(PolicyJson.Applied(result), PolicyJsonContext.Default.PolicyAppliedAnswer)
            : ControlAnswer.Of(new PolicyApplyRefusal(
                $"policy not applied, the policy in force is unchanged: {result.Errors.Count} error(s): " + string.Join("; ", result.Errors),
                result.Errors), PolicyJsonContext.Default.PolicyApplyRefusal));
    }

    private void Check(ControlCall call)
    {
        var request = call.Request;
        if (PolicyCheck.TryCreate(request.Src, request.Dst, request.Proto, request.Port ?? 0, out string error) is not { } check)
        {
            call.Refuse(error);
            return;
        }
        var result = policy.Check(check.Source, check.Destination, check.Protocol, check.Port);
        var current = policy.Current;
        call.Answer(ControlAnswer.Of(PolicyJson.Check(check, result, current, PolicyJson.FromDatapath), PolicyJsonContext.Default.PolicyCheckAnswer));
    }

    [LoggerMessage(EventId = EventIds.PolicyApplyRequested, Level = LogLevel.Warning, Message = "Policy apply requested (by uid {Uid}, pid {Pid})")]
    private partial void LogApplyRequested(uint uid, int pid);
}
