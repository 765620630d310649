namespace SfcProxy.Configuration;

/// <summary>The Unix stream socket that serves stats and control requests.</summary>
public sealed class ControlSocketOptions
{
    /// <summary>Directory of the default socket paths.</summary>
    public const string DefaultDirectory = "/run/sfcproxy";

    /// <summary>Socket path. Default <c>/run/sfcproxy/&lt;Instance&gt;.sock</c>.</summary>
    public string? Path { get; set; }

    /// <summary>
    /// Group the socket file is given (mode 0660): its members may read stats. Default: the
    /// daemon's own group. Flush and log-level need root whatever the group.
    /// </summary>
    public string? Group { get; set; }

    /// <summary>The socket path an instance uses when <see cref="Path"/> is not set.</summary>
    public static string DefaultPathFor(string instance) => $"{DefaultDirectory}/{instance}.sock";
}
