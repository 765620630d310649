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
    /// Unlinks every pin of the instance and the directory, and the root too once no instance is
    /// left in it. Pinned links detach and pinned maps are freed once no process holds them any more.
    /// </summary>
    public void Remove()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        var root = System.IO.Path.GetDirectoryName(Directory)!;
        if (System.IO.Directory.Exists(root) && !System.IO.Directory.EnumerateFileSystemEntries(root).Any())
        {
            try { System.IO.Directory.Delete(root); }
            catch (IOException) { } // another instance pinned something meanwhile: the root stays
        }
    }
}
