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

    /// <summary>Every request of the protocol, in the order the "unknown request" answer lists them.</summary>
    public static readonly string[] Requests =
        [Stats, Cache, CacheDump, Status, Metrics, Histograms, Flush, LogLevel, PolicyStatus, PolicyApply, PolicyCheck, DsrStatus, DsrBackend];

    /// <summary>The requests that change the instance: only root may send them, whether or not the
    /// instance runs their module (a non-root peer hears "needs root" first, as it always has).</summary>
    public static readonly string[] RootOnly = [Flush, LogLevel, PolicyApply, DsrBackend];

    /// <summary>
    /// The requests by the module that answers them. An instance runs only its configured modules; a
    /// request of a module it does not run is answered with that module's reason, not as unknown.
    /// </summary>
    public static readonly ControlModuleContract[] Modules =
    [
        new("the SFC proxy", "SfcProxy:Interfaces is not set", [Stats, Cache, CacheDump, Histograms, Flush]),
        new("the core", "always enabled", [Status, Metrics, LogLevel]),
        new("the policy module", "SfcProxy:Policy:Files is empty", [PolicyStatus, PolicyApply, PolicyCheck]),
        new("the DSR load balancer", "SfcProxy:Dsr:Services is empty", [DsrStatus, DsrBackend]),
    ];

    /// <summary>The module contract <paramref name="request"/> belongs to; null for a name the protocol does not have.</summary>
    public static ControlModuleContract? ModuleOf(string request) => Modules.FirstOrDefault(m => m.Requests.Contains(request));

    /// <summary>cache-dump entries when the request gives no "limit", and the most it may ask for.</summary>
    public const int DefaultDumpLimit = 100, MaxDumpLimit = 10_000;

    /// <summary>Levels a log-level request may set, as spelled on the wire.</summary>
    public static readonly string[] LogLevels = ["Debug", "Information", "Warning", "Error"];
}

/// <summary>The requests one module answers, and why an instance without that module refuses them.</summary>
/// <param name="Module">The module as the refusal names it ("the policy module").</param>
/// <param name="Enable">What is missing from the config when the module does not run.</param>
internal sealed record ControlModuleContract(string Module, string Enable, string[] Requests)
{
    public string NotEnabled(string request) => $"{request}: {Module} is not enabled on this instance ({Enable})";
}
