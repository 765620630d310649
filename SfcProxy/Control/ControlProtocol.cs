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
    public const string Status = "status";

    public static readonly string[] Requests = [Stats, Cache, Status];
}
