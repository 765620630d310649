using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using SfcProxy.Configuration;

namespace SfcProxy.Proxy;

/// <summary>
/// The interfaces on which this instance turned GRO off, one name a line, kept in
/// <c>&lt;socket dir&gt;/&lt;instance&gt;.gro</c> (bpffs holds no plain files) so that whoever finally
/// detaches turns GRO back on there: the daemon on stop, a later daemon that took the pinned links
/// over, or `sfcproxy detach` after a crash. Only a daemon that turned GRO off itself adds to it, and
/// only the one that turns it back on takes from it; a daemon that finds GRO already off leaves the
/// note alone. The socket directory may be shared, so the note is never read or written through a
/// symlink: it is read with O_NOFOLLOW and replaced by rename().
/// </summary>
internal static class GroNote
{
    private const int MaxBytes = 4096;
    private const int ELOOP = 40;

    public static string PathFor(string socketPath, string instance) =>
        Path.Combine(Path.GetDirectoryName(socketPath)!, $"{instance}.gro");

    /// <summary>The note as found, or null when there is none.</summary>
    public static Found? Read(string path)
    {
        var fd = Interop.Libc.open(path, Interop.Libc.O_RDONLY | Interop.Libc.O_NOFOLLOW | Interop.Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno switch
            {
                2 => null,
                ELOOP => new Found([], "", false, $"{path} is a symlink, not a note this daemon wrote; ignored"),
                _ => new Found([], "", false, $"{path}: {Marshal.GetPInvokeErrorMessage(errno)}"),
            };
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        using var stream = new FileStream(handle, FileAccess.Read);
        var buffer = new byte[MaxBytes + 1];
        int length = 0, n;
        while (length < buffer.Length && (n = stream.Read(buffer, length, buffer.Length - length)) > 0)
            length += n;
        var text = Encoding.UTF8.GetString(buffer, 0, Math.Min(length, MaxBytes));
        if (length > MaxBytes)
            return new Found([], text, false, $"{path} is longer than a note this daemon writes; ignored");

        var lines = text.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('#')).ToList();
        // Before the note named interfaces it said "on" or "off" for the ingress.
        if (lines is ["on"] or ["off"])
            return new Found([], text, lines[0] == "on", null);
        var bad = lines.FirstOrDefault(l => NetworkInterfaceNames.Problem(l) is not null);
        return bad is null
            ? new Found(lines.Distinct().ToList(), text, false, null)
            : new Found([], text, false, $"{path}: '{bad}' is not an interface name; ignored");
    }

    /// <summary>Writes the note naming <paramref name="interfaces"/>, or removes it when there are none.
    /// Written to a new file beside it and renamed over it: a symlink planted at the path is replaced,
    /// never followed.</summary>
    public static void Write(string path, string instance, IReadOnlyCollection<string> interfaces)
    {
        if (interfaces.Count == 0)
        {
            Delete(path);
            return;
        }
        var text = $"# sfcproxy instance {instance} turned GRO off on these interfaces; `sfcproxy detach --instance {instance}` " +
                   "turns it back on\n" + string.Concat(interfaces.Select(i => i + "\n"));
        WriteText(path, text);
    }

    /// <summary>Puts the note back as <paramref name="found"/> (null: there was none).</summary>
    public static void Restore(string path, Found? found)
    {
        if (found is null || found.Problem is not null && found.Text.Length == 0)
            Delete(path);
        else
            WriteText(path, found.Text);
    }

    /// <summary>Removes the note (unlink never follows a symlink).</summary>
    public static void Delete(string path) => File.Delete(path);

    private static void WriteText(string path, string text)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Path.GetRandomFileName()}");
        try
        {
            // CreateNew is O_CREAT|O_EXCL: it never opens something already there, symlink or not.
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(Encoding.UTF8.GetBytes(text));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>A note as read.</summary>
    /// <param name="Interfaces">Where GRO was turned off.</param>
    /// <param name="Text">The note's bytes, to put back unchanged.</param>
    /// <param name="LegacyIngressOn">An older daemon's note: "on" for the ingress, not named.</param>
    /// <param name="Problem">Why the note was ignored (a symlink, not a note), or null.</param>
    internal sealed record Found(IReadOnlyList<string> Interfaces, string Text, bool LegacyIngressOn, string? Problem);
}
