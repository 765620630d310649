namespace SfcProxy.Configuration;

/// <summary>The header cache: the BPF hash map xdp_rx fills and tc_tx drains.</summary>
public sealed class CacheOptions
{
    /// <summary>Maximum cached header sets (map max_entries), 1..16777216. Default 65536.</summary>
    public int Size { get; set; } = 65536;

    /// <summary>
    /// Entries older than this are aged out: the VNF dropped the packet, so tc_tx will never claim
    /// them. Must be greater than zero. Default 00:00:05.
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromSeconds(5);
}
