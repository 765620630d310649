using System.Net.Sockets;
using System.Runtime.InteropServices;
using SfcProxy.Hosting;

namespace SfcProxy.Control;

/// <summary>
/// Creating and removing the control socket's file. Its directory may be shared (/run/sfcproxy with
/// other instances, or a directory an operators' group can write), so nothing here follows a path
/// someone else could have planted: the socket is bound in a private directory (mode 0700) beside
/// the final path, given its mode and group there, listening, and only then renamed into place. At
/// the final path only a stale socket (one nobody answers on) is ever replaced.
/// </summary>
internal static class ControlSocketFile
{
    /// <summary>Owner and group may talk to the instance (stats are read by an operators' group).</summary>
    public const UnixFileMode Mode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>Bytes the private directory adds to the socket directory's path ("/.s" + 6 + "/s").</summary>
    internal const int PrivatePathOverhead = 11;

    private const int EEXIST = 17;

    /// <summary>
    /// Refuses a path the daemon must not take: anything but a socket (a regular file, a symlink, a
    /// directory), or a socket another instance answers on. A stale socket is fine (it is replaced).
    /// </summary>
    /// <exception cref="InvalidOperationException">The path is not free for this daemon; says why.</exception>
    public static void EnsureUsable(string path)
    {
        var status = FileStatus.Of(path);
        if (status is null)
            return;
        if (status.Value.Kind != UnixFileKind.Socket)
            throw new InvalidOperationException(
                $"SfcProxy:Socket:Path: {path} is {status.Value.Kind.Describe()}, not a socket SfcProxy left behind; " +
                "remove it or choose another path (only a stale socket is replaced)");
        if (IsAnswering(path))
            throw new InvalidOperationException($"SfcProxy:Socket:Path: another SfcProxy instance is already listening on {path}");
    }

    /// <summary>
    /// Listens on <paramref name="path"/> (its directory is made if missing), replacing a socket left
    /// behind by an instance that did not stop cleanly. Refuses to steal the path from a live instance
    /// or to replace anything that is not a socket.
    /// </summary>
    /// <param name="gid">Group given the socket (Socket:Group), whose members may then connect; null keeps ours.</param>
    /// <returns>The listener, and the identity of the file it made (see <see cref="Remove"/>).</returns>
    public static (Socket Listener, FileStatus File) Listen(string path, int backlog, uint? gid = null)
    {
        EnsureUsable(path);
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var privateDirectory = MakePrivateDirectory(directory);
        var bound = Path.Combine(privateDirectory, "s");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(bound));
            // Inside a directory only we can enter: chmod and chown act on our socket and nothing else.
            File.SetUnixFileMode(bound, Mode);
            if (gid is { } group)
                UnixGroup.Chown(bound, group);
            listener.Listen(backlog);
            // Whatever may have appeared meanwhile is checked again; rename() then replaces a stale
            // socket in one step and never follows a symlink.
            EnsureUsable(path);
            File.Move(bound, path, overwrite: true);
            return (listener, FileStatus.Of(path) ?? throw new IOException($"{path} vanished right after it was made"));
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        finally
        {
            try
            {
                File.Delete(bound);
                Directory.Delete(privateDirectory);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Removes the socket file if it is still the one <paramref name="made"/> describes.</summary>
    public static void Remove(string path, FileStatus made)
    {
        try
        {
            if (FileStatus.Of(path) is { } now && now.IsSameFile(made))
                File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a leftover socket is treated as stale by the next start.
        }
    }

    private static string MakePrivateDirectory(string directory)
    {
        for (var attempt = 0; ; attempt++)
        {
            var candidate = Path.Combine(directory, ".s" + Path.GetRandomFileName()[..6]);
            if (Interop.Libc.mkdir(candidate, 0b111_000_000) == 0)
                return candidate;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != EEXIST || attempt > 20)
                throw new IOException($"cannot make a private directory in {directory} for the control socket: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
    }

    /// <summary>Whether a live process holds the socket. Only "connection refused" (nobody listens)
    /// and a socket gone meanwhile make it stale; anything else, a full accept queue included, is
    /// taken for a live instance, whose socket must never be stolen.</summary>
    private static bool IsAnswering(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
