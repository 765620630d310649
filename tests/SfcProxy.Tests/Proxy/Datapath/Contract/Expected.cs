using System.Buffers.Binary;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>The settings tc_tx reads that change what a packet must leave with.</summary>
internal sealed record EgressConfig(uint Consumed, MissPolicy Miss, LabelStackEntry[] StaticStack, byte[]? NshNextHopMac,
    byte[] EgressMac, uint AcceptedEncaps, byte[][] Srv6Sids)
{
    public bool Accepts(Encapsulation e) => (AcceptedEncaps & (1u << (int)e)) != 0;

    /// <summary>Whether the 16 bytes at <paramref name="address"/> are one of the proxy SIDs (Srv6:Sids).</summary>
    public bool IsSid(ReadOnlySpan<byte> address)
    {
        foreach (var sid in Srv6Sids)
            if (address.SequenceEqual(sid))
                return true;
        return false;
    }

    public override string ToString() =>
        $"ConsumedSegments {Consumed}, MissPolicy {Miss}, StaticStack [{string.Join(" ", StaticStack)}], " +
        $"Nsh:NextHopMac {(NshNextHopMac is null ? "unset" : Wire.Hex(NshNextHopMac))}, accepted 0x{AcceptedEncaps:x}";
}

/// <summary>What tc_tx must do with a packet derived from X when it finds X's headers.</summary>
internal abstract record Expectation;

/// <summary>Push <paramref name="Headers"/> (EXPECTED(X)). <paramref name="OuterDst"/> set: NSH or SRv6 over
/// Ethernet, a new outer Ethernet header (to that MAC, from the egress MAC) goes in front.
/// <paramref name="Srv6"/>: an outer IPv6 header whose payload length is the one of what the VNF emitted.</summary>
internal sealed record Restore(byte[] Headers, ushort EtherType, byte[]? OuterDst, string Rule = "", bool Srv6 = false) : Expectation
{
    /// <summary>The headers pushed in front of <paramref name="following"/> bytes (the VNF's IP packet, or its frame).</summary>
    public byte[] For(int following)
    {
        if (!Srv6)
            return Headers;
        var h = (byte[])Headers.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(4), (ushort)(h.Length - 40 + following));
        return h;
    }

    public override string ToString() =>
        $"restore {Wire.Hex(Headers)}{(Srv6 ? " (payload length of the VNF's packet)" : "")}{(OuterDst is null ? "" : $" behind a new Ethernet header to {Wire.Hex(OuterDst)}")}";
}

/// <summary>MPLS, every label consumed: plain IP, TTL / hop limit at most <paramref name="TtlCap"/>.</summary>
internal sealed record RestoreLast(byte TtlCap) : Expectation
{
    public override string ToString() => $"plain IP (last segment), IP TTL min(emitted, {TtlCap})";
}

/// <summary>Dropped by the TTL or SI rules; any of <paramref name="Counters"/> (both rules can apply).</summary>
internal sealed record Expire(Counter[] Counters) : Expectation
{
    public override string ToString() => $"drop as {string.Join(" or ", Counters)}";
}

/// <summary>
/// EXPECTED(X): the contract's rule for the headers a packet leaves with, from the headers it
/// arrived with and the egress settings alone (README "What happens to each packet", "NSH";
/// docs/srv6.md; RFC 3032 2.4.2-2.4.3, RFC 8300 2.2-2.3, RFC 8754 4.3.1.1).
/// </summary>
internal static class Expected
{
    public static Expectation Of(ContractPacket x, EgressConfig cfg) => x.Encap switch
    {
        Encapsulation.Mpls => Mpls(x.Received, cfg),
        Encapsulation.Nsh => Nsh(x, cfg),
        Encapsulation.Srv6 => Srv6(x, cfg),
        _ => throw new InvalidOperationException($"packet {x.Id} has no SFC headers"),
    };

    /// <summary>The stack minus the consumed entries, new top TTL = popped top TTL - 1, the others as
    /// received. A popped top TTL of 0 or 1 is never forwarded, not even as plain IP (RFC 3032 2.4.2).</summary>
    private static Expectation Mpls(byte[] stack, EgressConfig cfg)
    {
        var count = stack.Length / 4;
        var topTtl = stack[3];
        if (topTtl <= 1)
            return new Expire([Counter.TxTtlExpired]);
        if (cfg.Consumed >= count)
            return new RestoreLast((byte)(topTtl - 1));
        var rest = stack[(4 * (int)cfg.Consumed)..];
        rest[3] = (byte)(topTtl - 1);
        return new Restore(rest, Wire.Mpls, null);
    }

    /// <summary>The header byte for byte with TTL - 1 (0 becomes 63) and SI - 1; TTL 1 or SI 0/1 drop.</summary>
    private static Expectation Nsh(ContractPacket x, EgressConfig cfg)
    {
        var h = (byte[])x.Received.Clone();
        var ttl = ((h[0] & 0x0F) << 2) | (h[1] >> 6);
        var si = h[7];
        var expired = new List<Counter>();
        if (ttl == 1)
            expired.Add(Counter.TxTtlExpired);
        if (si <= 1)
            expired.Add(Counter.TxSiExhausted);
        if (expired.Count > 0)
            return new Expire([.. expired]);
        var newTtl = ttl == 0 ? 63 : ttl - 1;
        h[0] = (byte)((h[0] & 0xF0) | (newTtl >> 2));
        h[1] = (byte)((h[1] & 0x3F) | ((newTtl & 3) << 6));
        h[7] = (byte)(si - 1);
        return new Restore(h, Wire.Nsh, x.OverEthernet ? cfg.NshNextHopMac ?? x.OuterSrc : null,
            ttl == 0 ? "NSH TTL 0 arrives: restored with TTL 63 (RFC 8300 2.2)" : "");
    }

    /// <summary>
    /// End.AD on the VNF's behalf (docs/srv6.md; RFC 8754 4.3.1.1 S11-S17): the outer IPv6 header and
    /// every extension header as received, with Segments Left - 1, destination = Segment List[Segments
    /// Left - 1] (as popped), hop limit - 1 and the payload length of the packet the VNF emits; a hop
    /// limit of 0 or 1 on arrival is never forwarded. Inner Ethernet: behind a new Ethernet header to
    /// Nsh:NextHopMac or the popped frame's source.
    /// </summary>
    private static Expectation Srv6(ContractPacket x, EgressConfig cfg)
    {
        var h = (byte[])x.Received.Clone();
        if (h[7] <= 1)
            return new Expire([Counter.TxTtlExpired]);
        h[7]--;
        var srh = SrhOffset(h);
        var sl = --h[srh + 3];
        h.AsSpan(srh + 8 + 16 * sl, 16).CopyTo(h.AsSpan(24));
        return new Restore(h, Wire.IPv6, x.OverEthernet ? cfg.NshNextHopMac ?? x.OuterSrc : null, Srv6: true);
    }

    /// <summary>Where the SRH starts in an outer IPv6 header and its extension headers (the model's own packets).</summary>
    private static int SrhOffset(byte[] h)
    {
        var (next, off) = (h[6], 40);
        while (next != 43)
            (next, off) = (h[off], off + (h[off + 1] + 1) * 8);
        return off;
    }

    /// <summary>The frame tc_tx must send: the VNF's L2 header (innermost ethertype MPLS, NSH or IPv6),
    /// EXPECTED(X), the VNF's packet byte for byte; NSH or SRv6 over Ethernet: new outer Ethernet, the
    /// headers, the VNF's whole frame.</summary>
    public static byte[] Output(Restore r, byte[] emitted, EgressConfig cfg)
    {
        if (r.OuterDst is { } dst)
        {
            var eth = new byte[14];
            dst.CopyTo(eth, 0);
            cfg.EgressMac.CopyTo(eth, 6);
            BinaryPrimitives.WriteUInt16BigEndian(eth.AsSpan(12), r.EtherType);
            return [.. eth, .. r.For(Following(r, emitted)), .. emitted];
        }
        var l2 = Wire.L2Length(emitted);
        return [.. Wire.WithEtherType(emitted.AsSpan(0, l2), r.EtherType), .. r.For(Following(r, emitted)), .. emitted.AsSpan(l2)];
    }

    /// <summary>SRv6: the bytes the payload length covers behind the headers: the VNF's whole frame for
    /// inner Ethernet, else its IP packet by its length field, not Ethernet padding behind it (RFC 8200 3).</summary>
    private static int Following(Restore r, byte[] emitted) =>
        !r.Srv6 ? 0 : r.OuterDst is not null ? emitted.Length : IpInfo.Parse(emitted.AsSpan(Wire.L2Length(emitted))).TotalLength;

    /// <summary>The VNF's frame with the IP TTL / hop limit lowered to the cap (IPv4 checksum fixed).</summary>
    public static byte[] OutputLast(RestoreLast r, byte[] emitted)
    {
        var l2 = Wire.L2Length(emitted);
        var ip = emitted[l2..];
        if (IpFields.Ttl(ip) > r.TtlCap)
        {
            IpFields.SetTtl(ip, r.TtlCap);
            if (ip[0] >> 4 == 4)
            {
                var hl = (ip[0] & 0x0F) * 4;
                ip[10] = ip[11] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Checksum.Fold(Checksum.Sum(ip.AsSpan(0, hl))));
            }
        }
        return [.. emitted.AsSpan(0, l2), .. ip];
    }

    /// <summary>
    /// Whether <paramref name="output"/> is the last-segment frame <paramref name="want"/>: equal but
    /// for the IPv4 header checksum, which must be valid (an incremental update may write 0xFFFF
    /// where a recomputation writes 0, RFC 1624).
    /// </summary>
    public static bool SameLast(byte[] output, byte[] want)
    {
        if (output.Length != want.Length)
            return false;
        var l2 = Wire.L2Length(want);
        if (want[l2] >> 4 != 4)
            return output.AsSpan().SequenceEqual(want);
        return output.AsSpan(0, l2 + 10).SequenceEqual(want.AsSpan(0, l2 + 10))
            && output.AsSpan(l2 + 12).SequenceEqual(want.AsSpan(l2 + 12))
            && Checksum.IPv4HeaderValid(output, l2);
    }

    /// <summary>A miss under MissPolicy static: the configured stack (as configured) pushed, or the
    /// frame as emitted when none is configured.</summary>
    public static byte[] OutputStatic(byte[] emitted, EgressConfig cfg)
    {
        if (cfg.StaticStack.Length == 0)
            return emitted;
        var stack = new byte[4 * cfg.StaticStack.Length];
        for (var i = 0; i < cfg.StaticStack.Length; i++)
            BinaryPrimitives.WriteUInt32BigEndian(stack.AsSpan(4 * i), cfg.StaticStack[i].ToHostOrder());
        var l2 = Wire.L2Length(emitted);
        return [.. Wire.WithEtherType(emitted.AsSpan(0, l2), Wire.Mpls), .. stack, .. emitted.AsSpan(l2)];
    }

    /// <summary>
    /// For a failure message: the packets among <paramref name="candidates"/> whose EXPECTED headers
    /// (or headers as received) are the ones tc_tx pushed in front of the VNF's frame.
    /// </summary>
    public static IEnumerable<(ContractPacket Packet, string Text)> WhoseHeaders(byte[] output, byte[] emitted, EgressConfig cfg, IEnumerable<ContractPacket> candidates)
    {
        var grown = output.Length - emitted.Length;
        if (grown <= 0)
            yield break;
        var l2 = Wire.L2Length(emitted);
        var behindL2 = output.Length >= l2 + grown ? output.AsSpan(l2, grown).ToArray() : [];
        var behindNewEth = grown > 14 ? output.AsSpan(14, grown - 14).ToArray() : [];
        foreach (var y in candidates)
        {
            if (y.Headers is null || !y.Popped)
                continue;
            if (Of(y, cfg) is Restore r && (r.OuterDst is null ? behindL2 : behindNewEth).AsSpan()
                    .SequenceEqual(r.For(Following(r, emitted)))
                && (r.OuterDst is null || output.AsSpan(0, 6).SequenceEqual(r.OuterDst)))
                yield return (y, $"EXPECTED(#{y.Id}) [{y.Describe()}]");
            else if (behindL2.AsSpan().SequenceEqual(y.Received) || behindNewEth.AsSpan().SequenceEqual(y.Received))
                yield return (y, $"the headers #{y.Id} arrived with, not advanced [{y.Describe()}]");
        }
    }
}
