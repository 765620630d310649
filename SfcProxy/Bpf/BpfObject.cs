using System.Collections.Concurrent;
using System.Text;

namespace SfcProxy.Bpf;

/// <summary>
/// One compiled BPF object (.bpf.o), like a libbpf skeleton: open, adjust maps, load, then use its
/// programs and maps. Disposing unloads whatever no link, pin or other fd still holds.
/// </summary>
public sealed unsafe class BpfObject : IDisposable
{
    // Enough for the verifier log of a large rejected program; libbpf itself starts at 16 MiB.
    private const int KernelLogSize = 16 * 1024 * 1024;
    // The end of the log holds the verifier's complaint; the start is usually just the walk.
    private const int KernelLogTailChars = 8000;

    private readonly SafeBpfObjectHandle _handle;
    private readonly SafeNativeMemoryHandle _kernelLog;
    // Filled on first use by whichever thread asks: control sessions read maps concurrently (two
    // `stats` requests at once made a plain Dictionary throw "an item with the same key").
    private readonly ConcurrentDictionary<string, BpfProgram> _programs = new();
    private readonly ConcurrentDictionary<string, BpfMap> _maps = new();
    private bool _loaded;

    private BpfObject(SafeBpfObjectHandle handle, SafeNativeMemoryHandle kernelLog, string name)
    {
        _handle = handle;
        _kernelLog = kernelLog;
        Name = name;
    }

    /// <summary>File name of the object, e.g. "xdp_rx.bpf.o"; used in every error message.</summary>
    public string Name { get; }

    /// <param name="objectPath">Path of the .bpf.o file.</param>
    /// <param name="pinRoot">
    /// Directory (on bpffs) where maps declared with LIBBPF_PIN_BY_NAME are pinned, or reused if a
    /// compatible pin already exists; created if missing. null leaves libbpf's default /sys/fs/bpf.
    /// </param>
    public static BpfObject Open(string objectPath, string? pinRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(objectPath);
        if (pinRoot is not null)
        {
            Directory.CreateDirectory(pinRoot);
        }

        var kernelLog = new SafeNativeMemoryHandle(KernelLogSize);
        try
        {
            // libbpf copies the pin root during open; the log buffer it keeps until load.
            byte[]? pinRootBytes = pinRoot is null ? null : Interop.LibBpf.Utf8z(pinRoot);
            fixed (byte* pinRootPtr = pinRootBytes)
            {
                var opts = new Interop.LibBpf.ObjectOpenOptions
                {
                    PinRootPath = pinRootPtr,
                    KernelLogBuffer = kernelLog.Pointer,
                    KernelLogSize = (nuint)kernelLog.Size,
                    // 0: no log on success; libbpf retries a failed load with level 1 into our buffer.
                    KernelLogLevel = 0,
                };
                SafeBpfObjectHandle handle = Interop.LibBpf.ObjectOpenFile(objectPath, ref opts);
                return new BpfObject(handle, kernelLog, Path.GetFileName(objectPath));
            }
        }
        catch
        {
            kernelLog.Dispose();
            throw;
        }
    }

    /// <summary>Resizes a map before <see cref="Load"/> (e.g. the header cache to cache.size).</summary>
    public void SetMaxEntries(string mapName, uint maxEntries)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (_loaded)
        {
            throw new InvalidOperationException($"{Name}: set max_entries of map '{mapName}' before Load().");
        }
        Interop.LibBpf.MapSetMaxEntries(_handle, Name, mapName, maxEntries);
    }

    /// <summary>Creates (or reuses pinned) maps and verifies and loads every program.</summary>
    /// <exception cref="BpfException">The message carries the tail of the verifier log.</exception>
    public void Load()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        using (LoadSignalGuard.Enter())
            Interop.LibBpf.ObjectLoad(_handle, Name, KernelLogTail);
        _loaded = true;
    }

    /// <summary>A loaded program by its C function name.</summary>
    public BpfProgram Program(string name)
    {
        EnsureLoaded();
        if (!_programs.TryGetValue(name, out BpfProgram? program))
        {
            int fd = Interop.LibBpf.ProgramFd(_handle, Name, name);
            program = new BpfProgram(name, $"{Name}/{name}", new BorrowedFd(_handle, fd, $"{Name}/{name}"));
            program = _programs.GetOrAdd(name, program);
        }
        return program;
    }

    /// <summary>A created map by its C variable name.</summary>
    public BpfMap Map(string name)
    {
        EnsureLoaded();
        if (!_maps.TryGetValue(name, out BpfMap? map))
        {
            int fd = Interop.LibBpf.MapFd(_handle, Name, name);
            Interop.LibBpf.MapDefinition def = Interop.LibBpf.MapDefinitionOf(_handle, Name, name);
            string subject = $"{Name}/{name}";
            map = new BpfMap(name, subject, new BorrowedFd(_handle, fd, subject), ownedFd: null,
                def.Type, def.KeySize, def.ValueSize, def.MaxEntries);
            map = _maps.GetOrAdd(name, map);
        }
        return map;
    }

    /// <summary>Every map of the object (internal ones such as .rodata included).</summary>
    public IEnumerable<BpfMap> Maps()
    {
        EnsureLoaded();
        return Interop.LibBpf.MapNames(_handle).Select(Map);
    }

    /// <summary>Names of the maps this object pins by name in its pin root (LIBBPF_PIN_BY_NAME): what
    /// removing its pins removes, and nothing else in the directory.</summary>
    public IReadOnlyList<string> PinnedMapNames()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        return Interop.LibBpf.PinnedMapNames(_handle);
    }

    public void Dispose()
    {
        // The object first: libbpf may still reference the log buffer until it is closed.
        _handle.Dispose();
        _kernelLog.Dispose();
    }

    private void EnsureLoaded()
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        if (!_loaded)
        {
            throw new InvalidOperationException($"{Name}: Load() the object before using its programs and maps.");
        }
    }

    private string? KernelLogTail()
    {
        var log = new ReadOnlySpan<byte>(_kernelLog.Pointer, _kernelLog.Size);
        int end = log.IndexOf((byte)0);
        string text = Encoding.UTF8.GetString(end < 0 ? log : log[..end]).TrimEnd();
        return text.Length <= KernelLogTailChars ? text : "..." + text[^KernelLogTailChars..];
    }
}
