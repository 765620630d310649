using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using SfcProxy.Bpf;
using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>Reading and emptying the header cache maps from user space (cache-dump and flush); which
/// map and key the key mode uses is <see cref="ICacheKeyMode"/>'s choice.</summary>
internal static class HeaderCacheEntries
{
    /// <summary>
    /// Elements per BPF_MAP_LOOKUP_BATCH call. Hash maps hand out whole buckets and fail with ENOSPC
    /// when one does not fit, so this stays well above any bucket's length.
    /// </summary>
    private const int BatchSize = 256;

    /// <summary>Up to <paramref name="limit"/> entries of a hash map keyed by <typeparamref name="TKey"/>, in map order.</summary>
    public static List<CacheEntryView> Dump<TKey>(BpfMap cache, int limit, Func<TKey, SfcCacheEntry, string> describe)
        where TKey : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        long now = MonotonicNanoseconds();
        var views = new List<CacheEntryView>(Math.Min(limit, BatchSize));
        var keys = new TKey[BatchSize];
        var values = new SfcCacheEntry[BatchSize];
        // A batched walk, unlike GET_NEXT_KEY, never restarts when the datapath deletes the key it
        // stands on, so no entry is listed twice.
        var cursor = new MapBatchCursor();
        while (views.Count < limit && !cursor.Finished)
        {
            int read = cache.LookupBatch<TKey, SfcCacheEntry>(cursor, keys, values);
            for (int i = 0; i < read && views.Count < limit; i++)
                views.Add(View(describe(keys[i], values[i]), values[i], now));
        }
        return views;
    }

    /// <summary>Deletes every entry of a hash map present now; returns how many this call deleted.</summary>
    public static int Flush<TKey>(BpfMap cache)
        where TKey : unmanaged
    {
        // Keys first, deletes after: deleting during a GET_NEXT_KEY walk restarts it.
        var keys = cache.Keys<TKey>().Take((int)cache.MaxEntries).ToList();
        int deleted = 0;
        foreach (var key in keys)
        {
            // A key tc_tx restored meanwhile is already gone; it was not ours to count.
            if (cache.Delete(key))
                deleted++;
        }
        return deleted;
    }

    /// <summary>An entry as the control socket shows it; <paramref name="now"/> from <see cref="MonotonicNanoseconds"/>.</summary>
    public static unsafe CacheEntryView View(string key, SfcCacheEntry entry, long now)
    {
        long ageMs = Math.Max(0, (now - (long)entry.IngressNs) / 1_000_000);
        var encap = (Encapsulation)entry.Encap;
        var labels = new List<string>();
        NshHeaderView? nsh = null;
        if (encap == Encapsulation.Mpls)
        {
            for (int i = 0; i < Math.Min((int)entry.LabelCount, SfcLimits.MaxLabels); i++)
            {
                var e = LabelStackEntry.FromNetworkOrder(entry.Hdr.Labels[i]);
                labels.Add($"{e.Label}/{e.TrafficClass}/{e.Ttl}{(e.BottomOfStack ? "/S" : "")}");
            }
        }
        else if (encap == Encapsulation.Nsh)
        {
            nsh = Nsh(new ReadOnlySpan<byte>(entry.Hdr.Nsh, Math.Min((int)entry.NshLen, SfcLimits.NshMaxLength)));
        }
        Srv6HeaderView? srv6 = encap == Encapsulation.Srv6
            ? Srv6(entry.Srv6Sid, entry.Srv6Next, new ReadOnlySpan<byte>(entry.Hdr.Srv6, Math.Min((int)entry.Srv6Len, SfcLimits.Srv6MaxLength)))
            : null;
        return new CacheEntryView(key, encap == Encapsulation.None ? "none" : OptionValues.Encapsulations.NameOf(encap),
            ageMs, entry.Refs, labels, nsh, srv6);
    }

    /// <summary>The outer IPv6 header's destination (bytes 24-39) and the rest as hex.</summary>
    internal static Srv6HeaderView Srv6(int sid, byte next, ReadOnlySpan<byte> header) =>
        new(sid, header.Length >= 40 ? new IPAddress(header[24..40]).ToString() : "", header.Length, next,
            Convert.ToHexStringLower(header));

    /// <summary>RFC 8300 section 2.2: Ver(2) O U TTL(6) Length(6) U(4) MD type(4) Next protocol(8), then SPI(24) SI(8).</summary>
    internal static NshHeaderView Nsh(ReadOnlySpan<byte> header)
    {
        string hex = Convert.ToHexStringLower(header);
        if (header.Length < 8)
            return new NshHeaderView(0, 0, 0, 0, header.Length, 0, hex);
        byte ttl = (byte)(((header[0] & 0x0f) << 2) | (header[1] >> 6));
        uint servicePath = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        return new NshHeaderView(servicePath >> 8, (byte)servicePath, ttl, (byte)(header[2] & 0x0f),
            (header[1] & 0x3f) * 4, header[3], hex);
    }

    /// <summary>"ipv4 198.18.1.1 -> 198.18.2.1 proto 6 ports 40000 -> 80" (ports for TCP, UDP and SCTP only).</summary>
    internal static unsafe string Describe(SfcFlowKey key)
    {
        int addressLength = key.Family == 6 ? 16 : 4;
        var source = new IPAddress(new ReadOnlySpan<byte>(key.Saddr, addressLength));
        var destination = new IPAddress(new ReadOnlySpan<byte>(key.Daddr, addressLength));
        string text = $"ipv{key.Family} {source} -> {destination} proto {key.L4Proto}";
        if (key.L4Proto is 6 or 17 or 132)
        {
            var l4 = new ReadOnlySpan<byte>(key.L4, 4);
            text += $" ports {BinaryPrimitives.ReadUInt16BigEndian(l4)} -> {BinaryPrimitives.ReadUInt16BigEndian(l4[2..])}";
        }
        // Identification and length tell apart packets of one flow, which the key must do too.
        return text + $" id 0x{FromNetworkOrder(key.IpIdent):x8} len {FromNetworkOrder(key.IpLen)}";
    }

    private static uint FromNetworkOrder(uint value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    private static ushort FromNetworkOrder(ushort value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    /// <summary>
    /// Now on the clock bpf_ktime_get_ns() reads (CLOCK_MONOTONIC). On Linux, Stopwatch reads that
    /// same clock, so the difference is the entry's age.
    /// </summary>
    public static long MonotonicNanoseconds() =>
        (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));
}
