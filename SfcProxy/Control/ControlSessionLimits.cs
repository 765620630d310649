namespace SfcProxy.Control;

/// <summary>How long, and how many, control sessions clients may hold.</summary>
/// <param name="RequestTimeout">
/// A session must deliver a complete request line within this long of its start or of its last
/// answer; bytes that never make a line do not extend it (a client trickling one byte at a time
/// is dropped like a silent one).
/// </param>
/// <param name="WriteTimeout">
/// A client that does not read its answers blocks our writes once the socket buffers are full; a
/// write blocked this long drops the session, so its unread output never grows past one chunk.
/// </param>
internal sealed record ControlSessionLimits(TimeSpan RequestTimeout, TimeSpan WriteTimeout)
{
    public static readonly ControlSessionLimits Default = new(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10));

    /// <summary>Sessions open at once, all users: bounds the memory clients can pin.</summary>
    public int MaxSessions { get; init; } = 1024;

    /// <summary>Sessions one non-root user (peer uid, SO_PEERCRED) may hold at once.</summary>
    public int MaxSessionsPerUser { get; init; } = 32;

    /// <summary>Sessions only root may take: however many others hold, root's `sfcproxy status`
    /// (the liveness probe) finds room.</summary>
    public int ReservedForRoot { get; init; } = 64;
}
