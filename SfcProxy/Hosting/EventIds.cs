namespace SfcProxy.Hosting;

/// <summary>
/// The registry of the daemon's log event ids: one id names one event whatever the logger category,
/// so a journal filter or an alert can key on it. Every [LoggerMessage] takes its id from here
/// (EventIdsTests fails on an id not named here, or one that two messages share). Ranges: 100-109 the proxy
/// service, 110-129 the proxy datapath (attach, take-over, teardown), 200-229 the control socket,
/// 230-239 the Prometheus endpoint, 300-309 cache aging, 400-409 reload, 500-509 policy, 600-619 DSR, 700-729 the daemon's lifetime
/// (ownership, signals).
/// </summary>
internal static class EventIds
{
    // 100-109: the proxy service.
    public const int ProxyStarting = 100;
    public const int ProxyStarted = 101;
    public const int ProxyStartFailed = 102;
    public const int ProxyStopped = 103;
    public const int ProxyStopFailed = 104;
    public const int FinalCounters = 105;
    public const int FinalCountersUnavailable = 106;

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
    public const int SocketListening = 200;
    public const int SocketClosed = 201;
    public const int AcceptFailed = 202;
    public const int SessionRefused = 203;
    public const int SessionFailed = 204;
    public const int NoRequest = 205;
    public const int SlowReader = 206;
    public const int SessionRefusedForUid = 207;
    public const int BadRequestText = 208;
    public const int RequestFailed = 209;
    public const int RequestNeedsRoot = 210;
    public const int CacheFlushed = 211;
    public const int LogLevelChanged = 212;
    public const int PolicyApplyRequested = 213;
    public const int DsrBackendRequested = 214;

    // 230-239: the Prometheus endpoint.
    public const int MetricsListening = 230;
    public const int MetricsStopped = 231;

    // 300-309: cache aging.
    public const int AgingStarted = 300;
    public const int CacheSwept = 301;
    public const int CacheSweptMany = 302;
    public const int CacheSweepFailed = 303;
    public const int AgingInDatapath = 304;

    // 400-409: reload.
    public const int Reloaded = 400;
    public const int ReloadNeedsRestart = 401;
    public const int ReloadModuleNeedsRestart = 402;
    public const int ReloadedLogLevel = 403;

    // 500-509: policy.
    public const int PolicyApplied = 500;
    public const int PolicyRejected = 501;
    public const int PolicyAttached = 502;

    // 600-619: DSR.
    public const int DsrAttached = 600;
    public const int DsrApplied = 601;
    public const int DsrBackendChanged = 602;
    public const int DsrBackendPurged = 603;
    public const int DsrBackendKept = 604;
    public const int DsrSweepFailed = 605;
    public const int DsrLiveRestored = 606;
    public const int DsrLiveReplaced = 607;
    public const int DsrLiveSaveFailed = 608;
    public const int DsrReloaded = 609;
    public const int DsrDecapAttached = 610;
    public const int DsrTakenOver = 611;
    public const int DsrLeftAttached = 612;
    public const int DsrNotTurnedOff = 613;

    // 700-729: the daemon's lifetime.
    public const int InstanceOwned = 700;
    public const int InstanceDirectoryKept = 701;
    public const int ReloadsQueuedDuringStart = 702;
    public const int ReloadStepFailed = 703;
    public const int NothingToReload = 704;
}
