namespace SfcProxy.Control;

/// <summary>
/// One module's part of the control protocol: the requests it answers with their root rule, and the
/// answers (its metric families are its <see cref="Metrics.IMetricsSource"/>). Each module registers
/// one in DI when it is configured; the <see cref="ControlRequestTable"/> dispatches to them.
/// </summary>
internal interface IControlModule
{
    /// <summary>The requests this module answers: names from <see cref="ControlProtocol"/>, each claimed by one module.</summary>
    IReadOnlyList<ControlRequestRule> Requests { get; }

    /// <summary>Answers <see cref="ControlCall.Request"/>, one of <see cref="Requests"/> whose root rule the peer passed.</summary>
    /// <remarks>An exception is answered as "NAME unavailable: ..." and the session goes on.</remarks>
    Task AnswerAsync(ControlCall call, CancellationToken cancellationToken);

    /// <summary>Adds this module's fields to the <c>status</c> answer (most modules have none).</summary>
    InstanceStatus DescribeStatus(InstanceStatus status) => status;
}

/// <param name="NeedsRoot">The request changes the instance: only root may send it (checked with SO_PEERCRED).</param>
internal sealed record ControlRequestRule(string Name, bool NeedsRoot = false);

/// <summary>One request on its way to the module that answers it.</summary>
/// <param name="Table">The table that dispatched it: the instance, its uptime, the modules it runs.</param>
internal sealed record ControlCall(ControlRequest Request, PeerCredentials Peer, SessionOutput Output, ControlRequestTable Table)
{
    public string Name => Request.Name;

    /// <summary>Writes one complete answer line.</summary>
    public void Answer(byte[] line) => Output.Write(line);

    /// <summary>Answers <c>{"ok":false,"error":"NAME: <paramref name="reason"/>"}</c>.</summary>
    public void Refuse(string reason) => Output.Write(ControlAnswer.Error($"{Name}: {reason}"));
}
