using System.Buffers.Binary;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>The multi-packet items of an episode: issue 11's near-collision families and fragmented datagrams.</summary>
internal sealed partial class Planner
{
    /// <summary>The packets of issue 11's near-collisions, each with its own headers unless said otherwise.</summary>
    private void Family(Episode e)
    {
        var kind = _rng.Next(10);
        var members = new List<ContractPacket>();
        string name;
        var identical = false;
        switch (kind)
        {
            case 0: // UDP datagrams of one flow, same checksum and first 4 payload bytes, other payload (IPv6, or IPv4 DF id 0)
                {
                    var v6 = _rng.Next(2) == 0;
                    var baseIp = gen.Udp(v6, gen.Bytes(_rng.Next(12, 600)), linuxDf: !v6);
                    name = "udp-same-checksum";
                    members.Add(gen.Sfc(baseIp, gen.RandomHeaders()));
                    AddPayloadVariants(members, baseIp, name);
                    break;
                }
            case 1: // TCP segments with the same seq/ack/len, payload different after byte 4 (IPv6, or IPv4 with the same id)
                {
                    var v6 = _rng.Next(3) != 0;
                    var baseIp = gen.Tcp(v6, payload: gen.Bytes(_rng.Next(12, 1200)));
                    name = "tcp-same-seq";
                    members.Add(gen.Sfc(baseIp, gen.RandomHeaders()));
                    AddPayloadVariants(members, baseIp, name);
                    break;
                }
            case 2: // NAT-T keepalives of different flows: clients behind one NAT address, other ports
                {
                    name = "nat-t-keepalives";
                    var nat = gen.Address(false);
                    for (var i = _rng.Next(2, 4); i > 0; i--)
                        members.Add(gen.Sfc(gen.NatKeepalive(nat, gen.Port()), gen.RandomHeaders()));
                    break;
                }
            case 3: // ICMPv6 echoes without data, different ids (one flow label, as one host sends them)
                {
                    name = "icmpv6-echo-no-data";
                    var baseIp = gen.Echo(true, 0);
                    members.Add(gen.Sfc(baseIp, gen.RandomHeaders()));
                    for (var i = _rng.Next(1, 3); i > 0; i--)
                    {
                        var id = (ushort)_rng.Next(65536);
                        var ip = Vnf.Patched(baseIp.Ip, (b, info) => BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(info.TransportOffset + 4), id));
                        members.Add(gen.Sfc(new InnerSpec(ip, baseIp.Shape + $" (id {id})"), gen.RandomHeaders()));
                    }
                    break;
                }
            case 4: // TCP behind IPv6 extension headers, different sequence numbers
            case 5: // UDP behind IPv6 extension headers, different ports
                {
                    var tcp = kind == 4;
                    var (ext, names) = gen.Extensions();
                    var baseIp = tcp ? gen.Tcp(true, payload: gen.Bytes(gen.PayloadLength(small: true)), ext: ext)
                                     : gen.Udp(true, gen.Bytes(gen.PayloadLength(small: true)), ext: ext);
                    name = tcp ? "tcp-behind-extension-headers" : "udp-behind-extension-headers";
                    members.Add(gen.Sfc(baseIp with { Shape = baseIp.Shape.Replace("+ext", names) }, gen.RandomHeaders()));
                    for (var i = _rng.Next(1, 3); i > 0; i--)
                    {
                        var v = (uint)_rng.NextInt64(1L << 32);
                        var ip = Vnf.Patched(baseIp.Ip, (b, info) =>
                        {
                            if (tcp)
                                BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(info.TransportOffset + 4), v);
                            else
                                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(info.TransportOffset), (ushort)(v | 1024));
                        });
                        members.Add(gen.Sfc(new InnerSpec(ip, $"{baseIp.Shape.Replace("+ext", names)} ({(tcp ? $"seq {v}" : $"sport {(ushort)(v | 1024)}")})"),
                            gen.RandomHeaders()));
                    }
                    break;
                }
            case 6: // true retransmission: identical packet, identical headers
                {
                    name = "retransmission";
                    identical = true;
                    var x = gen.Sfc(gen.RandomInner(), gen.RandomHeaders());
                    members.Add(x);
                    for (var i = _rng.Next(1, 3); i > 0; i--)
                        members.Add(gen.Again(x));
                    break;
                }
            case 7 when e.Steps.OfType<SweepStep>().Any():
                Family(e); // not across a sweep (see Episode.NoSweep): another family instead
                return;
            case 7: // identical inner packets with different headers
                {
                    name = "identical-other-headers";
                    identical = true;
                    e.NoSweep = true;
                    var inner = gen.RandomInner();
                    for (var i = _rng.Next(2, 4); i > 0; i--)
                        members.Add(gen.Sfc(inner, gen.RandomHeaders()));
                    break;
                }
            case 8:
                NatOntoDropped(e);
                return;
            default:
                FragmentedDatagram(e, otherHeaders: true);
                return;
        }

        // Variants can come out identical by chance (swapped payload words that were equal): then
        // the family is one of identical packets, and behaves like one (no copy outliving its entry).
        identical |= members.GroupBy(m => m.IpKey).Any(g => g.Count() > 1);
        foreach (var m in members)
        {
            m.Family = name;
            m.IdenticalFamily = identical;
            if (kind is 0 or 1)
                m.Alike = members;
        }

        // Retransmissions across an aging sweep (header-hash): the copy that arrives after the
        // cutoff must not be aged with the first one.
        if (kind == 6 && !Metadata && !e.NoSweep && !e.Steps.OfType<SweepStep>().Any() && _rng.Next(3) == 0)
        {
            Rx(e, members[0], 0.01);
            e.Steps.Add(new CutoffStep(0.02));
            for (var i = 1; i < members.Count; i++)
                Rx(e, members[i], 0.03 + 0.01 * i);
            e.Steps.Add(new SweepStep(0.1));
            foreach (var m in members)
                Behave(e, m, 0.1, PickAction(identical: true));
            return;
        }

        var start = _rng.NextDouble() * 0.5;
        foreach (var m in members)
        {
            var t = start + _rng.NextDouble() * 0.3;
            Rx(e, m, t);
            Behave(e, m, t, PickAction(identical));
        }
    }

    /// <summary>Members with the base packet's payload words swapped: same length, checksum and first 4 payload bytes.</summary>
    private void AddPayloadVariants(List<ContractPacket> members, InnerSpec baseIp, string name)
    {
        var info = IpInfo.Parse(baseIp.Ip);
        var header = info.TransportOffset + (info.Protocol == IpFields.Tcp ? (baseIp.Ip[info.TransportOffset + 12] >> 4) * 4 : 8);
        var payload = baseIp.Ip[header..];
        for (var i = _rng.Next(1, 3); i > 0; i--)
        {
            if (gen.SameChecksumVariant(payload) is not { } v)
                break;
            members.Add(gen.Sfc(new InnerSpec([.. baseIp.Ip[..header], .. v], baseIp.Shape + " (payload words swapped)"), gen.RandomHeaders()));
        }
        _ = name;
    }

    /// <summary>
    /// X from flow A is dropped by the VNF; Y, from flow A', NATed by the VNF onto A, leaves as X with
    /// another payload (same checksum and first 4 bytes). Metadata: Y keeps its mark, its own headers.
    /// Header-hash: a miss, or its own headers; never X's.
    /// </summary>
    private void NatOntoDropped(Episode e)
    {
        var v6 = _rng.Next(2) == 0;
        var baseIp = gen.Udp(v6, gen.Bytes(_rng.Next(12, 400)), linuxDf: !v6);
        var info = IpInfo.Parse(baseIp.Ip);
        var payload = baseIp.Ip[(info.TransportOffset + 8)..];
        if (gen.SameChecksumVariant(payload) is not { } swapped)
            return;
        var (srcAt, _, len) = IpFields.Addresses(baseIp.Ip);
        var xSrc = new System.Net.IPAddress(baseIp.Ip.AsSpan(srcAt, len)).ToString();
        var xSport = BinaryPrimitives.ReadUInt16BigEndian(baseIp.Ip.AsSpan(info.TransportOffset));
        var ySrc = gen.Address(v6);
        var ySport = gen.Port();
        var yIp = Vnf.Patched([.. baseIp.Ip[..(info.TransportOffset + 8)], .. swapped], (b, i) =>
        {
            System.Net.IPAddress.Parse(ySrc).GetAddressBytes().CopyTo(b, srcAt);
            BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(i.TransportOffset), ySport);
        });
        var x = gen.Sfc(baseIp, gen.RandomHeaders());
        var y = gen.Sfc(new InnerSpec(yIp, baseIp.Shape + $" from {ySrc}:{ySport}, other payload"), gen.RandomHeaders());
        x.Family = y.Family = "nat-onto-dropped";
        x.Behaviour = "drop";
        y.Behaviour = $"NAT onto #{x.Id}'s flow";
        Rx(e, x, 0.1 + _rng.NextDouble() * 0.2);
        var ty = 0.1 + _rng.NextDouble() * 0.4;
        Rx(e, y, ty);
        var l2 = L2();
        e.Steps.Add(new EmitStep(0.6 + _rng.NextDouble() * 0.4, new Emission
        {
            Behaviour = y.Behaviour, Source = y, Needs = [y], MissAllowed = !NatFingerprint,
            Make = () => new Emitted(Vnf.Frame(l2, Vnf.Nat(Vnf.Received(y), xSrc, null, xSport, null)), Vnf.Mark(y)),
        }));
    }

    /// <summary>
    /// A datagram sent as fragments (IPv4 without DF, or IPv6 with a fragment header), all with the
    /// same headers unless <paramref name="otherHeaders"/>. The VNF forwards each fragment, or
    /// reassembles them (conntrack) and sends the datagram whole or refragmented at other boundaries,
    /// every output with the mark of the datagram (the offset-0 fragment's skb).
    /// </summary>
    private void FragmentedDatagram(Episode e, bool otherHeaders = false)
    {
        var v6 = _rng.Next(2) == 0;
        var payload = gen.Bytes(_rng.Next(200, 1400));
        // IPv6: a hop-by-hop header or none in front of the fragment header (no other extension
        // headers: the fragmenter keeps the per-fragment part simple)
        var ext = v6 && _rng.Next(3) == 0 ? p => p.HopByHop() : ShapeGenerator.NoExtensions;
        var inner = _rng.Next(5) switch
        {
            < 3 => gen.Udp(v6, payload, ext: ext),
            3 => gen.Echo(v6, payload.Length, ext: ext),
            _ => gen.Tcp(v6, payload: payload, ext: ext),
        };
        var ip = inner.Ip;
        var ipId = (ushort)_rng.Next(1, 65536);
        if (!v6) // a datagram that may be fragmented: DF off, an id (RFC 6864)
            ip = Vnf.Patched(ip, (b, _) =>
            {
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), ipId);
                BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), 0);
            });
        var info = IpInfo.Parse(ip);
        var fragmentable = info.TotalLength - info.UnfragmentableLength;
        var pieces = _rng.Next(2, 7);
        var chunk = Math.Max(8, (fragmentable / pieces + 7) / 8 * 8);
        var v6Id = (uint)_rng.Next(1, int.MaxValue);
        var fragments = Fragments.Split(ip, chunk, v6Id);
        var datagram = new Datagram(otherHeaders ? "fragments-other-headers" : "fragments");
        var headers = gen.RandomHeaders();
        var tags = gen.OuterTags();
        var macs = (gen.Mac(), gen.Mac()); // one datagram, one upstream SFF
        for (var i = 0; i < fragments.Count; i++)
        {
            var shape = System.Text.RegularExpressions.Regex.Replace(inner.Shape.Replace(" DF", ""), @"^ipv4 id \d+", $"ipv4 id {ipId}");
            var f = gen.Sfc(new InnerSpec(fragments[i], $"{(v6 ? inner.Shape : shape)}, fragment {i + 1}/{fragments.Count} of {chunk} B"),
                otherHeaders ? gen.RandomHeaders() : headers, tags, macs: macs);
            f.Datagram = datagram;
            f.Family = datagram.Name;
            datagram.Fragments.Add(f);
        }

        var times = datagram.Fragments.Select(_ => _rng.NextDouble() * 0.6).ToList();
        for (var i = 0; i < times.Count; i++)
            Rx(e, datagram.Fragments[i], times[i]);
        var last = times.Max();

        var how = otherHeaders ? 0 : _rng.Next(10);
        switch (how)
        {
            case < 4: // forward each fragment as it is
                for (var i = 0; i < times.Count; i++)
                    Behave(e, datagram.Fragments[i], times[i], _rng.Next(8) == 0 ? VnfAction.RewriteTos : VnfAction.Forward);
                break;
            case 4: // a stateful VNF that drops the datagram
                foreach (var f in datagram.Fragments)
                    f.Behaviour = "drop (datagram)";
                break;
            default: // conntrack: reassemble, then send whole (case 5) or refragmented at other boundaries
                {
                    var whole = how == 5;
                    var outChunk = whole ? 0 : Math.Max(8, (fragmentable / _rng.Next(1, 7) + 7) / 8 * 8);
                    if (!whole && outChunk == chunk)
                        outChunk += 8; // other boundaries than the sender's
                    var outputs = whole ? 1 : (fragmentable + outChunk - 1) / outChunk;
                    var behaviour = whole ? "reassemble" : $"reassemble, refragment at {outChunk} B";
                    foreach (var f in datagram.Fragments)
                        f.Behaviour = behaviour;
                    List<byte[]>? made = null;
                    var l2 = L2();
                    var head = datagram.Fragments[0]; // offset 0: its skb is the one the reassembled datagram continues
                    for (var o = 0; o < outputs; o++)
                    {
                        var index = o;
                        e.Steps.Add(new EmitStep(last + (1 - last) * (o + _rng.NextDouble()) / outputs, new Emission
                        {
                            Behaviour = $"{behaviour}, output {o + 1}/{outputs}",
                            Source = head,
                            Needs = datagram.Fragments,
                            MissAllowed = !Metadata,
                            Make = () =>
                            {
                                made ??= Reassembled(datagram, whole, outChunk, v6Id);
                                return new Emitted(Vnf.Frame(l2, made[Math.Min(index, made.Count - 1)]), Vnf.Mark(head));
                            },
                        }));
                    }
                    break;
                }
        }
    }

    private static List<byte[]> Reassembled(Datagram d, bool whole, int chunk, uint v6Id)
    {
        var datagram = Fragments.Reassemble(d.Fragments.Select(Vnf.Received))
            ?? throw new InvalidOperationException($"{d.Name}: the fragments xdp_rx handed on do not make the datagram");
        datagram = Vnf.Route(datagram);
        return whole ? [datagram] : Fragments.Split(datagram, chunk, v6Id);
    }
}
