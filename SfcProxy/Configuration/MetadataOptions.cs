using System.Globalization;
using System.Numerics;
using SfcProxy.Datapath;

namespace SfcProxy.Configuration;

/// <summary>Settings of the metadata key mode.</summary>
public sealed class MetadataOptions
{
    /// <summary>
    /// The bits of skb->mark that carry the metadata key (the cache slot + 1), contiguous, written in
    /// JSON as a hex string ("0xffff0000") or a number. Nothing else in the mark is touched: other
    /// users (kube-proxy's 0x4000/0x8000, Cilium's 0x0f00, Istio, the AWS CNI's 0x80) keep their
    /// bits. The mask also bounds the cache: at most 2^bits - 1 slots. Default 0xffff0000.
    /// </summary>
    public uint MarkMask { get; set; } = SfcLimits.DefaultMarkMask;

    /// <summary>Slots the mask can name: keys 1 .. 2^bits - 1 (0 is "no key").</summary>
    internal static long Capacity(uint mask) => mask == 0 ? 0 : (1L << BitOperations.PopCount(mask)) - 1;

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
