using System.Globalization;
using System.Numerics;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy.Options;

/// <summary>Settings of the metadata key mode.</summary>
public sealed class MetadataOptions
{
    /// <summary>
    /// The bits of skb->mark that carry the metadata key (the cache slot + 1), contiguous, written in
    /// JSON as a hex string ("0xffff0000") or a number. Nothing else in the mark is touched: other
    /// users (kube-proxy's 0x4000/0x8000, Cilium's 0x0f00, Istio, the AWS CNI's 0x80) keep their
    /// bits. The mask also bounds the cache: at most 2^(bits - 2) - 1 slots, so that at least two
    /// bits carry the slot's generation. Default 0xffff0000 (16,383 slots at most).
    /// </summary>
    public uint MarkMask { get; set; } = SfcLimits.DefaultMarkMask;

    /// <summary>
    /// What the fingerprint that tells a slot's packet from another covers: "strict" (default) every
    /// field the header-hash key holds, addresses and ports included, so a mark some rule changed
    /// into another live packet's key misses unless the two are the same packet; "nat" only what NAT
    /// leaves alone, for a VNF that rewrites addresses or ports (SNAT, DNAT, masquerade), whose
    /// packets would all miss with "strict" — then a changed mark between two packets that differ
    /// only in what NAT rewrites is not caught.
    /// </summary>
    public MetaFingerprint Fingerprint { get; set; } = MetaFingerprint.Strict;

    /// <summary>Bits of the key above the slot index that must stay for the slot's generation (a late
    /// packet's key then names an older generation of its slot, not the next owner).</summary>
    internal const int GenerationBits = 2;

    /// <summary>
    /// Slots the mask can name with <see cref="GenerationBits"/> to spare: the key is index + 1 in
    /// log2(slots) + 1 bits, so at most 2^(bits - 2) - 1 slots (0 for a mask too narrow for any).
    /// </summary>
    internal static long Capacity(uint mask)
    {
        var bits = Math.Min(BitOperations.PopCount(mask), 31) - GenerationBits;
        return bits <= 0 ? 0 : (1L << bits) - 1;
    }

    /// <summary>Whether the set bits of the mask are one run (the key is shifted in, not scattered).</summary>
    internal static bool IsContiguous(uint mask) =>
        mask != 0 && ((mask >> BitOperations.TrailingZeroCount(mask)) & ((mask >> BitOperations.TrailingZeroCount(mask)) + 1)) == 0;

    /// <summary>Lowest set bit: how far the key is shifted into the mark.</summary>
    internal static uint Shift(uint mask) => mask == 0 ? 0 : (uint)BitOperations.TrailingZeroCount(mask);

    /// <summary>"0xffff0000" or "4294901760" to a mask; false for anything else.</summary>
    internal static bool TryParseMask(string text, out uint mask)
    {
        var t = text.Trim();
        return t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out mask)
            : uint.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out mask);
    }

    internal static string Format(uint mask) => $"0x{mask:x8}";
}
