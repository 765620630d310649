namespace SfcProxy.Hosting;

/// <summary>
/// The registry of the daemon's log event ids: one id names one event whatever the logger category,
/// so a journal filter or an alert can key on it. Ranges: 100-109 the proxy service, 110-129 the
/// proxy datapath (attach, take-over, teardown), 200-229 the control socket, 300-309 cache aging,
/// 400-409 reload, 500-509 policy, 600-619 DSR, 700-729 the daemon's lifetime (ownership, signals).
/// Ids used from more than one place, or new since the registry, are constants here; the others
/// are written at their [LoggerMessage] within their range.
/// </summary>
internal static class EventIds
{
    // 110-129: the proxy datapath.
    public const int Attached = 110;
    public const int Detached = 111;
    public const int GroRestored = 112;
    public const int TookOver = 113;
    public const int LeftAttached = 114;
    public const int StartRolledBack = 115;
    public const int RollbackStepFailed = 116;
    public const int TeardownStepFailed = 117;
    public const int GroNoteUnreadable = 118;
    public const int ObsoleteLinkRemoved = 119;
    public const int ObsoleteLinkRemovalFailed = 120;
    public const int PinsKept = 121;

    // 200-229: the control socket.
    public const int SessionRefusedForUid = 207;
    public const int BadRequestText = 208;
    public const int RequestFailed = 209;

    // 700-729: the daemon's lifetime.
    public const int InstanceOwned = 700;
    public const int InstanceDirectoryKept = 701;
    public const int ReloadsQueuedDuringStart = 702;
    public const int ReloadStepFailed = 703;
    public const int NothingToReload = 704;
}
