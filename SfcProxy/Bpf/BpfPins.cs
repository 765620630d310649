namespace SfcProxy.Bpf;

/// <summary>
/// The bpffs directory of one module instance, /sys/fs/bpf/sfcproxy/&lt;instance&gt;/: the pin root
/// for its maps (LIBBPF_PIN_BY_NAME) and where its links are pinned. Modules (SFC proxy, load
/// balancer, policy) each get their own instance, so they never share pins by accident.
/// </summary>
public sealed class BpfPins
{
    public const string DefaultRoot = "/sys/fs/bpf/sfcproxy";

    public BpfPins(string instance, string root = DefaultRoot)
    {
        ArgumentException.ThrowIfNullOrEmpty(instance);
        if (instance.Contains('/') || instance is "." or "..")
        {
            throw new ArgumentException($"instance name '{instance}' must be a single path component", nameof(instance));
        }
        Instance = instance;
        Directory = System.IO.Path.Combine(root, instance);
    }

    public string Instance { get; }

    /// <summary>The instance directory; pass it as the pin root to <see cref="BpfObject.Open"/>.</summary>
    public string Directory { get; }

    /// <summary>Path of a pin in the instance directory, e.g. Path("xdp_link_eth1").</summary>
    public string Path(string name) => System.IO.Path.Combine(Directory, name);

    public bool Exists => System.IO.Directory.Exists(Directory);

    public void Create() => System.IO.Directory.CreateDirectory(Directory);

    /// <summary>
    /// Unlinks the pins named <paramref name="names"/> (maps and links this module makes) and then
    /// the directory and the root if they are left empty. Never recursive: the directory may hold
    /// pins another tool made (PinRoot /sys/fs/bpf and an instance named like that tool's
    /// directory), and those stay, with the directory. Pinned links detach and pinned maps are freed
    /// once no process holds them any more.
    /// </summary>
    /// <param name="removeDirectory">false leaves the directory even when empty (a start putting back
    /// what it found: the directory was there).</param>
    /// <exception cref="IOException">A named pin could not be removed (all the others were).</exception>
    public PinRemoval Remove(IEnumerable<string> names, bool removeDirectory = true)
    {
        if (!System.IO.Directory.Exists(Directory))
            return new PinRemoval([]);
        var failed = new List<string>();
        foreach (var name in names.Distinct())
        {
            var path = Path(name);
            try
            {
                if (File.Exists(path) || System.IO.Directory.Exists(path))
                    File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failed.Add($"{name} ({e.Message})");
            }
        }
        var left = System.IO.Directory.EnumerateFileSystemEntries(Directory).Select(System.IO.Path.GetFileName).ToList();
        if (left.Count == 0 && removeDirectory)
            RemoveEmpty();
        if (failed.Count > 0)
            throw new IOException($"pins left in {Directory}: {string.Join(", ", failed)}");
        return new PinRemoval(left!);
    }

    /// <summary>
    /// For a module that does not know its pins' names: unlinks every pin directly in the directory
    /// (never a subdirectory, never recursively), then the directory and the root if left empty.
    /// </summary>
    public PinRemoval Remove() =>
        Remove(System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory).Select(System.IO.Path.GetFileName).OfType<string>().ToList()
            : []);

    private void RemoveEmpty()
    {
        try { System.IO.Directory.Delete(Directory); }
        catch (IOException) { return; } // something was pinned meanwhile: it stays
        var root = System.IO.Path.GetDirectoryName(Directory)!;
        if (!System.IO.Directory.Exists(root) || System.IO.Directory.EnumerateFileSystemEntries(root).Any() || IsMountPoint(root))
            return;
        try { System.IO.Directory.Delete(root); }
        catch (IOException) { } // another instance pinned something meanwhile: the root stays
    }

    /// <summary>A mount point (bpffs itself, when PinRoot is its root) is never removed.</summary>
    private static bool IsMountPoint(string path) =>
        SfcProxy.Hosting.FileStatus.Of(path) is not { } self
        || SfcProxy.Hosting.FileStatus.Of(System.IO.Path.GetDirectoryName(path) ?? "/") is not { } parent
        || self.Device != parent.Device;
}

/// <summary>What removing an instance's pins left: entries that were not its own (the directory then stays).</summary>
public sealed record PinRemoval(IReadOnlyList<string> Foreign);
