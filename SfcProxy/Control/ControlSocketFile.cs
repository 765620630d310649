using System.Net.Sockets;

namespace SfcProxy.Control;

/// <summary>Creating and removing the control socket's file.</summary>
internal static class ControlSocketFile
{
    /// <summary>Owner and group may talk to the instance (stats are read by an operators' group).</summary>
    public const UnixFileMode Mode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>
    /// Binds and listens on <paramref name="path"/>, creating its directory and removing a socket left
    /// behind by an instance that did not stop cleanly. Refuses to steal the path from a live instance.
    /// </summary>
    /// <param name="gid">Group given the socket (Socket:Group), whose members may then connect; null keeps ours.</param>
    public static Socket Listen(string path, int backlog, uint? gid = null)
    {
        string? directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
            Directory.CreateDirectory(directory);

        if (File.Exists(path))
        {
            if (IsAnswering(path))
                throw new InvalidOperationException($"another SfcProxy instance is already listening on {path}");
            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            // bind() created the file with the umask's mode; tighten it before anyone is accepted.
            File.SetUnixFileMode(path, Mode);
            if (gid is { } group)
                UnixGroup.Chown(path, group);
            listener.Listen(backlog);
            return listener;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    public static void Remove(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: a leftover file is treated as stale by the next start.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static bool IsAnswering(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
