namespace SfcProxy.Proxy.Options;

/// <summary>The header cache xdp_rx fills and tc_tx drains: a hash map (header-hash key mode) or an
/// array of per-CPU slot rings (metadata key mode).</summary>
public sealed class CacheOptions
{
    /// <summary>
    /// Maximum cached header sets, 1..16777216. Default 65536 in header-hash mode, 4096 in metadata
    /// mode. Metadata mode: Size / CPUs slots per CPU (rounded down to a multiple of the CPU count,
    /// at least one per CPU), at most what Metadata:MarkMask can name (65535 with the default mask).
    /// </summary>
    public int Size { get; set; } = DefaultSize;

    internal const int DefaultSize = 65536;
    internal const int DefaultMetadataSize = 4096;

    /// <summary>Whether the config file gave <see cref="Size"/> (the metadata default depends on it).</summary>
    internal bool SizeGiven { get; set; }

    /// <summary>
    /// Entries older than this are aged out: the VNF dropped the packet, so tc_tx will never claim
    /// them (header-hash: deleted by the host's sweep; metadata: taken over by xdp_rx when their
    /// slot comes round). Must be greater than zero. Default 00:00:05.
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromSeconds(5);
}
