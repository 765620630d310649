namespace SfcProxy.Control;

/// <summary>
/// Constants of the line-delimited JSON control protocol: one JSON object per line each way,
/// <c>{"request":"stats"}</c> answered by <c>{"ok":true,...}</c> or <c>{"ok":false,"error":"..."}</c>.
/// </summary>
internal static class ControlProtocol
{
    /// <summary>A longer request line is answered with an error and the connection closed.</summary>
    public const int MaxLineBytes = 64 * 1024;

    public const string Stats = "stats";
    public const string Cache = "cache";
    public const string CacheDump = "cache-dump";
    public const string Status = "status";
    public const string Metrics = "metrics";
    public const string Histograms = "histograms";
    public const string Flush = "flush";
    public const string LogLevel = "log-level";
    /// <summary>The policy in force: identities, rules, entry counts, per-rule hits.</summary>
    public const string PolicyStatus = "policy-status";
    /// <summary>Re-reads the policy files and swaps the compiled tables into the datapath (root only).</summary>
    public const string PolicyApply = "policy-apply";
    /// <summary>The datapath's verdict for one packet: "src", "dst", "proto", "port".</summary>
    public const string PolicyCheck = "policy-check";

    /// <summary>The DSR load balancer: services, backends with weight and state (active, draining, removing with its
    /// connection entries), packet counters.</summary>
    public const string DsrStatus = "dsr-status";
    /// <summary>Adds, removes or reweights a DSR backend and re-applies the tables (root only):
    /// "action" add|remove|weight, "vip", "port", "protocol", "address", "weight".</summary>
    public const string DsrBackend = "dsr-backend";

    public static readonly string[] Requests =
        [Stats, Cache, CacheDump, Status, Metrics, Histograms, Flush, LogLevel, PolicyStatus, PolicyApply, PolicyCheck, DsrStatus, DsrBackend];

    /// <summary>Requests that change the instance: only root may send them (checked with SO_PEERCRED).</summary>
    public static bool NeedsRoot(string request) => request is Flush or LogLevel or PolicyApply or DsrBackend;

    /// <summary>cache-dump entries when the request gives no "limit", and the most it may ask for.</summary>
    public const int DefaultDumpLimit = 100, MaxDumpLimit = 10_000;

    /// <summary>Levels a log-level request may set, as spelled on the wire.</summary>
    public static readonly string[] LogLevels = ["Debug", "Information", "Warning", "Error"];
}
