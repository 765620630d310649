using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Hosting;
using SfcProxy.Metrics;

namespace SfcProxy.Control;

/// <summary>The requests every instance answers, whatever modules it runs: <c>status</c>, <c>metrics</c>, <c>log-level</c>.</summary>
/// <param name="logger">The control server's: control events keep one logger category whichever module answers.</param>
/// <param name="metrics">The instance's families: the <c>metrics</c> answer is the HTTP endpoint's exposition.</param>
internal sealed partial class CoreControl(IOptions<SfcProxyOptions> options, LogLevelSwitch logLevel, InstanceMetrics metrics,
    ILogger<ControlServer> logger)
    : IControlModule
{
    public IReadOnlyList<ControlRequestRule> Requests { get; } =
    [
        new(ControlProtocol.Status),
        new(ControlProtocol.Metrics),
        new(ControlProtocol.LogLevel, NeedsRoot: true),
    ];

    public async Task AnswerAsync(ControlCall call, CancellationToken cancellationToken)
    {
        call.Answer(call.Name switch
        {
            ControlProtocol.Status => ControlAnswer.Of(new StatusAnswer(Status(call)), ControlJsonContext.Default.StatusAnswer),
            ControlProtocol.Metrics => ControlAnswer.Of(new MetricsAnswer(await metrics.ExportAsync(cancellationToken)),
                ControlJsonContext.Default.MetricsAnswer),
            _ => SetLogLevel(call.Request.Level, call.Peer),
        });
    }

    private InstanceStatus Status(ControlCall call)
    {
        var status = new InstanceStatus(options.Value.Instance, Environment.ProcessId, null, null, null, null, null, null,
            logLevel.Minimum.ToString(), call.Table.UptimeSeconds);
        foreach (var module in call.Table.Modules)
            status = module.DescribeStatus(status);
        return status;
    }

    private byte[] SetLogLevel(string? requested, PeerCredentials peer)
    {
        string? level = ControlProtocol.LogLevels.FirstOrDefault(l => string.Equals(l, requested, StringComparison.OrdinalIgnoreCase));
        if (level is null)
            return ControlAnswer.Error($"\"level\" must be one of {string.Join(", ", ControlProtocol.LogLevels)}");
        var previous = logLevel.Minimum;
        var next = Enum.Parse<LogLevel>(level);
        // Logged before a raise and after a lowering, so the change is on record at either level.
        if (next > previous)
            LogLevelChanged(previous, next, peer.Uid, peer.Pid);
        logLevel.Minimum = next;
        if (next <= previous)
            LogLevelChanged(previous, next, peer.Uid, peer.Pid);
        return ControlAnswer.Of(new LogLevelAnswer(previous.ToString(), next.ToString()), ControlJsonContext.Default.LogLevelAnswer);
    }

    [LoggerMessage(EventId = EventIds.LogLevelChanged, Level = LogLevel.Warning, Message = "Log level changed from {Previous} to {Level} (by uid {Uid}, pid {Pid})")]
    private partial void LogLevelChanged(LogLevel previous, LogLevel level, uint uid, int pid);
}
