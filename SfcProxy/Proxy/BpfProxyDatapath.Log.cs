using Microsoft.Extensions.Logging;
using SfcProxy.Hosting;

namespace SfcProxy.Proxy;

public sealed partial class BpfProxyDatapath
{
    [LoggerMessage(EventId = EventIds.Attached, Level = LogLevel.Information,
        Message = "instance {Instance}: xdp_rx on {Ingress}, tc_tx on {Egress}, key mode {KeyMode}, maps pinned in {PinDirectory}")]
    private partial void LogAttached(string instance, string ingress, string egress, string keyMode, string pinDirectory);

    [LoggerMessage(EventId = EventIds.Detached, Level = LogLevel.Information, Message = "instance {Instance}: detached, pins removed")]
    private partial void LogDetached(string instance);

    [LoggerMessage(EventId = EventIds.TookOver, Level = LogLevel.Information,
        Message = "instance {Instance}: took over {Links} pinned link(s) of an earlier daemon; cached headers kept")]
    private partial void LogTookOver(string instance, int links);

    [LoggerMessage(EventId = EventIds.LeftAttached, Level = LogLevel.Information,
        Message = "instance {Instance}: left attached (DetachOnStop false); pins in {PinDirectory}; `sfcproxy detach --instance {Instance}` removes them")]
    private partial void LogLeftAttached(string instance, string pinDirectory);

    [LoggerMessage(EventId = EventIds.GroRestored, Level = LogLevel.Information, Message = "GRO turned back on for {Interface}")]
    private partial void LogGroRestored(string @interface);

    [LoggerMessage(EventId = EventIds.StartRolledBack, Level = LogLevel.Warning,
        Message = "instance {Instance}: start failed ({Reason}); putting back what it found")]
    private partial void LogStartRolledBack(string instance, string reason);

    [LoggerMessage(EventId = EventIds.RollbackStepFailed, Level = LogLevel.Error, Message = "rollback step failed: {Step}: {Reason}")]
    private partial void LogRollbackStepFailed(string step, string reason);

    [LoggerMessage(EventId = EventIds.TeardownStepFailed, Level = LogLevel.Error, Message = "detach step failed: {Step}: {Reason}")]
    private partial void LogTeardownStepFailed(string step, string reason);

    [LoggerMessage(EventId = EventIds.GroNoteUnreadable, Level = LogLevel.Warning, Message = "GRO note: {Problem}")]
    private partial void LogGroNoteUnreadable(string problem);

    [LoggerMessage(EventId = EventIds.ObsoleteLinkRemoved, Level = LogLevel.Information,
        Message = "detached {Pin}: an earlier daemon's link on an interface this config no longer uses")]
    private partial void LogObsoleteLinkRemoved(string pin);

    [LoggerMessage(EventId = EventIds.ObsoleteLinkRemovalFailed, Level = LogLevel.Error, Message = "after start: {Step}: {Reason}")]
    private partial void LogObsoleteLinkRemovalFailed(string step, string reason);

    [LoggerMessage(EventId = EventIds.PinsKept, Level = LogLevel.Information,
        Message = "{PinDirectory} kept: it holds pins SfcProxy did not make ({Entries})")]
    private partial void LogPinsKept(string pinDirectory, string entries);
}
