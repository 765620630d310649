using System.Globalization;
using System.Runtime.InteropServices;
using SfcProxy.Bpf;

namespace SfcProxy.Hosting;

/// <summary>
/// The exclusive right to one instance: flock(LOCK_EX) on its pin directory &lt;PinRoot&gt;/&lt;Instance&gt;/,
/// taken before a daemon loads or touches anything and held until its stop has finished (the kernel
/// drops it when the process ends, however it ends). The pin directory is what makes an instance one
/// instance (two configs with different sockets but one pin directory drive one datapath), and bpffs
/// has one inode per directory for every mount namespace, so a daemon in a container and
/// `sfcproxy detach` on the host see the same lock.
/// </summary>
internal sealed class InstanceLock : IDisposable
{
    private const int EWOULDBLOCK = 11, EEXIST = 17, EINTR = 4;
    private readonly SafeFileDescriptorHandle _fd;

    private InstanceLock(SafeFileDescriptorHandle fd, string directory, bool madeDirectory)
    {
        _fd = fd;
        Directory = directory;
        MadeDirectory = madeDirectory;
    }

    /// <summary>The locked pin directory.</summary>
    public string Directory { get; }

    /// <summary>The directory did not exist and was made to be locked: a start that fails removes it again.</summary>
    public bool MadeDirectory { get; }

    /// <summary>Takes the lock of <paramref name="instance"/>, making its pin directory if needed.</summary>
    /// <exception cref="InstanceBusyException">A live process holds it.</exception>
    /// <exception cref="IOException">The pin directory cannot be made or opened (a symlink, a file).</exception>
    public static InstanceLock Acquire(string pinRoot, string instance, bool create = true)
    {
        var directory = Path.Combine(pinRoot, instance);
        // The directory can be removed and made again between our open and our flock (an owner's
        // last stop, `sfcproxy detach`): a lock on a removed directory protects nothing, so check
        // that the path still names the locked directory, and start over if not.
        for (var attempt = 0; ; attempt++)
        {
            var made = create && MakeDirectory(directory);
            var fd = new SafeFileDescriptorHandle(Interop.Libc.open(directory,
                Interop.Libc.O_RDONLY | Interop.Libc.O_DIRECTORY | Interop.Libc.O_NOFOLLOW | Interop.Libc.O_CLOEXEC, 0));
            if (fd.IsInvalid)
            {
                int errno = Marshal.GetLastPInvokeError();
                fd.Dispose();
                throw new IOException($"cannot open the pin directory {directory} to lock the instance: {Errno.Describe(errno)}" +
                    (errno == 40 ? " (it is a symlink)" : ""));
            }
            try
            {
                if (!TryLock(fd))
                    throw new InstanceBusyException(instance, directory, HolderPid(FileStatus.Of(fd, directory)));
                if (FileStatus.Of(directory) is { } now && now.IsSameFile(FileStatus.Of(fd, directory)))
                    return new InstanceLock(fd, directory, made);
                if (attempt >= 10)
                    throw new IOException($"the pin directory {directory} keeps being replaced while it is locked");
            }
            catch
            {
                fd.Dispose();
                throw;
            }
            fd.Dispose();
        }
    }

    /// <summary>The lock of an instance whose pin directory exists, or null when it does not (nothing to lock).</summary>
    public static InstanceLock? AcquireExisting(string pinRoot, string instance) =>
        System.IO.Directory.Exists(Path.Combine(pinRoot, instance)) ? Acquire(pinRoot, instance, create: false) : null;

    public void Dispose() => _fd.Dispose();

    private static bool MakeDirectory(string directory)
    {
        if (Interop.Libc.mkdir(directory, 0b111_101_101) == 0)
            return true;
        int errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST)
            return false;
        throw new IOException($"cannot make the pin directory {directory}: {Errno.Describe(errno)}");
    }

    private static bool TryLock(SafeFileDescriptorHandle fd)
    {
        while (true)
        {
            if (Interop.Libc.flock(fd.Fd, Interop.Libc.LOCK_EX | Interop.Libc.LOCK_NB) == 0)
                return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EWOULDBLOCK)
                return false;
            if (errno != EINTR)
                throw new IOException($"flock: {Errno.Describe(errno)}");
        }
    }

    /// <summary>Who holds the lock, from /proc/locks ("1: FLOCK ADVISORY WRITE pid maj:min:inode 0 EOF",
    /// major and minor in hex); null when it cannot be told (another pid namespace).</summary>
    private static int? HolderPid(FileStatus directory)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/locks"))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 6 || f[1] != "FLOCK")
                    continue;
                var id = f[5].Split(':');
                if (id.Length == 3 && ulong.TryParse(id[2], CultureInfo.InvariantCulture, out var inode) && inode == directory.Inode
                    && uint.TryParse(id[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var major)
                    && uint.TryParse(id[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var minor)
                    && (((ulong)major << 32) | minor) == directory.Device
                    && int.TryParse(f[4], CultureInfo.InvariantCulture, out var pid) && pid > 0)
                    return pid;
            }
        }
        catch (IOException)
        {
        }
        return null;
    }
}

/// <summary>Another live process owns the instance.</summary>
internal sealed class InstanceBusyException(string instance, string directory, int? pid)
    : Exception($"instance '{instance}' is owned by a running daemon ({(pid is { } p ? $"pid {p}" : "pid unknown")}), " +
                $"which holds the lock on {directory}; stop that daemon first")
{
    public int? Pid { get; } = pid;
}
