using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Options;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>
/// Draws episodes: which packets arrive (single packets of every shape, the near-collision families
/// of issue 11, fragmented datagrams, malformed frames), what the VNF does with each (forward,
/// bridge, reorder, duplicate, drop, hold, rewrite DSCP/ECN/TTL/MSS, NAT, change the mark, forward or
/// reassemble fragments, originate), and in which order it all happens. Every random draw is made
/// here, before the episode runs, so a seed gives the same run whatever the datapath answers.
/// </summary>
internal sealed partial class Planner(ShapeGenerator gen, KeyMode mode, MetaFingerprint fingerprint = MetaFingerprint.Strict)
{
    private readonly Random _rng = gen.Rng;
    private readonly List<Emission> _held = [];

    public bool Metadata => mode == KeyMode.Metadata;

    /// <summary>Metadata mode with Metadata:Fingerprint "nat": a NATed packet keeps its headers; a changed
    /// mark is caught only between packets that differ in more than what NAT rewrites (README).</summary>
    private bool NatFingerprint => Metadata && fingerprint == MetaFingerprint.Nat;

    /// <summary>Emissions held past this episode (the VNF still has the packet).</summary>
    public int Held => _held.Count;

    public Episode Next(int number)
    {
        var e = new Episode(number);
        var items = _rng.Next(1, 6);
        for (var i = 0; i < items; i++)
        {
            switch (_rng.Next(100))
            {
                case < 56:
                    Single(e);
                    break;
                case < 72:
                    Family(e);
                    break;
                case < 83:
                    FragmentedDatagram(e);
                    break;
                case < 88:
                    Rx(e, gen.Malformed(), _rng.NextDouble());
                    break;
                case < 93:
                    Originate(e);
                    break;
                default:
                    Single(e);
                    break;
            }
        }

        // Held emissions due now come out at a random point of this episode.
        for (var i = _held.Count - 1; i >= 0; i--)
        {
            if (_held[i].DueEpisode <= number)
            {
                e.Steps.Add(new EmitStep(_rng.NextDouble(), _held[i]));
                _held.RemoveAt(i);
            }
        }

        if (!Metadata && !e.NoSweep && !e.Steps.OfType<SweepStep>().Any() && _rng.Next(12) == 0)
        {
            var a = _rng.NextDouble();
            var b = _rng.NextDouble();
            e.Steps.Add(new CutoffStep(Math.Min(a, b) * 0.5));
            e.Steps.Add(new SweepStep(Math.Max(a, b)));
        }
        // Stable: steps with equal times keep the order they were planned in.
        var ordered = e.Steps.Select((s, i) => (s, i)).OrderBy(t => t.s.Time).ThenBy(t => t.i).Select(t => t.s).ToList();
        e.Steps.Clear();
        e.Steps.AddRange(ordered);
        return e;
    }

    // ------------------------------------------------------------------ items

    private void Single(Episode e)
    {
        var x = gen.Sfc(gen.RandomInner(), gen.RandomHeaders());
        var t = _rng.NextDouble() * 0.8;
        Rx(e, x, t);
        Behave(e, x, t, PickAction(identical: false));
    }

    private void Originate(Episode e)
    {
        var inner = gen.RandomInner();
        var l2 = L2();
        var markKind = _rng.Next(10);
        var randomMark = (uint)_rng.NextInt64(1L << 32);
        var pick = _rng.Next();
        var others = e.Inputs;
        var natKey = Convert.ToBase64String(IpFields.NatNormalized(inner.Ip));
        e.Steps.Add(new EmitStep(_rng.NextDouble(), new Emission
        {
            Behaviour = markKind switch { < 5 => "originate", < 7 => "originate, random mark", _ => "originate, another packet's mark" },
            Needs = [],
            MustMiss = true,
            Make = () =>
            {
                uint mark = markKind switch
                {
                    < 5 => 0,
                    < 7 => randomMark,
                    // with the "nat" fingerprint only the key of a packet that differs in more than NAT
                    // rewrites is a must-miss (README); a NAT twin's would be the documented limit
                    _ => others.Where(o => o.Popped && o.Rx.MetaKey is not null && (!NatFingerprint || o.NatKey != natKey))
                            .Select(o => o.Rx.MetaKey!.Value).ToList() is { Count: > 0 } keys
                        ? keys[pick % keys.Count] : randomMark,
                };
                return new Emitted(Vnf.Frame(l2, inner.Ip), mark);
            },
        }));
    }

    // ------------------------------------------------------------------ behaviours

    internal enum VnfAction { Forward, Bridge, Duplicate, Drop, HoldShort, HoldLong, RewriteTos, RewriteTtl, ClampMss, Nat, ChangeMark }

    private VnfAction PickAction(bool identical)
    {
        if (identical) // nothing that would let a copy meet another copy's entry after its own is gone
        {
            return _rng.Next(10) switch
            {
                < 6 => VnfAction.Forward,
                6 => VnfAction.RewriteTos,
                7 => VnfAction.RewriteTtl,
                8 => VnfAction.Nat,
                _ => VnfAction.Drop,
            };
        }
        return _rng.Next(100) switch
        {
            < 32 => VnfAction.Forward,
            < 36 => VnfAction.Bridge,
            < 42 => VnfAction.Duplicate,
            < 48 => VnfAction.Drop,
            < 53 => VnfAction.HoldShort,
            < 56 => VnfAction.HoldLong,
            < 64 => VnfAction.RewriteTos,
            < 70 => VnfAction.RewriteTtl,
            < 76 => VnfAction.ClampMss,
            < 87 => VnfAction.Nat,
            _ => VnfAction.ChangeMark,
        };
    }

    /// <summary>Plans what the VNF emits for x, popped at time <paramref name="t"/>.</summary>
    private void Behave(Episode e, ContractPacket x, double t, VnfAction action)
    {
        var l2 = L2();
        double After() => t + (1 - t) * _rng.NextDouble();
        Emission Emit(string behaviour, Func<byte[], byte[]> rewrite, bool missAllowed = false, Func<uint, uint>? mark = null,
            DuplicateCopies? copies = null) => new()
        {
            Behaviour = behaviour, Source = x, Needs = [x], MissAllowed = missAllowed, Copies = copies,
            Make = () => new Emitted(Vnf.Frame(l2, rewrite(Vnf.Received(x))), mark is null ? Vnf.Mark(x) : mark(Vnf.Mark(x))),
        };

        switch (action)
        {
            case VnfAction.Forward:
                x.Behaviour = "forward";
                e.Steps.Add(new EmitStep(After(), Emit(x.Behaviour, Vnf.Route)));
                break;
            case VnfAction.Bridge:
                // a transparent (L2) VNF across a real Ethernet link: the frame as it got it, padded
                // to the 60-byte minimum when shorter (a bridge forwards padding; only the IP layer
                // trims it)
                x.Behaviour = "bridge";
                e.Steps.Add(new EmitStep(After(), new Emission
                {
                    Behaviour = x.Behaviour, Source = x, Needs = [x],
                    Make = () => new Emitted(x.Rx.Frame.Length >= 60 ? x.Rx.Frame : [.. x.Rx.Frame, .. new byte[60 - x.Rx.Frame.Length]], Vnf.Mark(x)),
                }));
                break;
            case VnfAction.Duplicate:
                {
                    var copies = new DuplicateCopies();
                    var n = _rng.Next(2, 4);
                    x.Behaviour = $"duplicate x{n}";
                    for (var i = 0; i < n; i++)
                        e.Steps.Add(new EmitStep(After(), Emit(x.Behaviour, Vnf.Route, copies: copies)));
                    break;
                }
            case VnfAction.Drop:
                x.Behaviour = "drop";
                break;
            case VnfAction.HoldShort:
            case VnfAction.HoldLong:
                {
                    var episodes = action == VnfAction.HoldShort ? _rng.Next(1, 4) : Metadata ? _rng.Next(300, 601) : _rng.Next(20, 201);
                    x.Behaviour = $"hold {episodes} episodes";
                    var em = Emit(x.Behaviour, Vnf.Route);
                    em.DueEpisode = e.Number + episodes;
                    _held.Add(em);
                    break;
                }
            case VnfAction.RewriteTos:
                {
                    var tc = (byte)_rng.Next(256);
                    x.Behaviour = $"rewrite DSCP/ECN to 0x{tc:x2}";
                    e.Steps.Add(new EmitStep(After(), Emit(x.Behaviour, ip => Vnf.SetTrafficClass(ip, tc))));
                    break;
                }
            case VnfAction.RewriteTtl:
                {
                    var ttl = (byte)_rng.Next(1, 256);
                    x.Behaviour = $"rewrite IP TTL to {ttl}";
                    e.Steps.Add(new EmitStep(After(), Emit(x.Behaviour, ip => Vnf.SetTtl(ip, ttl))));
                    break;
                }
            case VnfAction.ClampMss:
                {
                    var mss = (ushort)_rng.Next(536, 1400);
                    x.Behaviour = $"clamp MSS to {mss}";
                    e.Steps.Add(new EmitStep(After(), Emit(x.Behaviour, ip => Vnf.ClampMss(ip, mss))));
                    break;
                }
            case VnfAction.Nat:
                {
                    var v6 = x.Ip[0] >> 4 == 6;
                    var kind = _rng.Next(3);
                    string? src = kind != 1 ? gen.Address(v6) : null;
                    string? dst = kind != 0 ? gen.Address(v6) : null;
                    ushort? sport = kind != 1 ? gen.Port() : null;
                    ushort? dport = kind == 1 ? gen.Port() : null;
                    x.Behaviour = kind switch { 0 => "SNAT", 1 => "DNAT", _ => "SNAT+DNAT" };
                    // The mark survives in-kernel NAT, and the "nat" fingerprint leaves out what NAT rewrites;
                    // header-hash and the strict fingerprint may lose the packet (never to another's headers).
                    e.Steps.Add(new EmitStep(After(), Emit(x.Behaviour, ip => Vnf.Nat(ip, src, dst, sport, dport), missAllowed: !NatFingerprint)));
                    break;
                }
            case VnfAction.ChangeMark:
                {
                    var bit = _rng.Next(32);
                    // With the "nat" fingerprint a changed mark is caught only between packets that
                    // differ in more than NAT rewrites (README): marks are moved only onto such packets,
                    // and not flipped blindly (a flip may land on a NAT twin's key).
                    var toAnother = NatFingerprint || _rng.Next(10) < 3;
                    var pick = _rng.Next();
                    var others = e.Inputs;
                    x.Behaviour = toAnother ? "set the mark to another packet's" : $"xor mark bit {bit}";
                    // Metadata: a miss or its own headers. Header-hash does not key on the mark: restored.
                    e.Steps.Add(new EmitStep(After(), Emit(x.Behaviour, Vnf.Route, missAllowed: Metadata, mark: m =>
                    {
                        if (toAnother && others.Where(o => o != x && o.Popped && o.Rx.MetaKey is not null && o.IpKey != x.IpKey &&
                                    (!NatFingerprint || o.NatKey != x.NatKey))
                                .Select(o => o.Rx.MetaKey!.Value).ToList() is { Count: > 0 } keys)
                            return keys[pick % keys.Count];
                        return NatFingerprint ? m : m ^ (1u << bit);
                    })));
                    break;
                }
        }
    }

    private void Rx(Episode e, ContractPacket x, double t)
    {
        e.Inputs.Add(x);
        e.Steps.Add(new RxStep(t, x));
    }

    private VnfL2 L2() => new(gen.Mac(), _rng.Next(10) switch
    {
        < 6 => [],
        < 9 => [(Wire.Vlan, (ushort)_rng.Next(1, 4095))],
        _ => [(Wire.QinQ, (ushort)_rng.Next(1, 4095)), (Wire.Vlan, (ushort)_rng.Next(1, 4095))],
    });

    // ------------------------------------------------------------------ configuration

    /// <summary>A new egress configuration: consumed segments, miss policy, static stack, NSH next hop,
    /// accepted encapsulations; every other field as in <paramref name="loaded"/> (what the proxy was
    /// loaded with).</summary>
    public (SfcConfig Raw, EgressConfig Egress) Config(SfcConfig loaded, ulong metaMaxAgeNs, Srv6Options srv6)
    {
        var consumed = _rng.Next(20) switch { < 12 => 1u, < 14 => 0u, < 17 => 2u, < 19 => 3u, _ => 16u };
        var miss = (MissPolicy)_rng.Next(3);
        var staticCount = _rng.Next(0, 4);
        var staticStack = new LabelStackEntry[staticCount];
        for (var i = 0; i < staticCount; i++)
            staticStack[i] = new LabelStackEntry(ShapeGenerator.StaticLabelBase + (uint)_rng.Next(0x10000), 0, i == staticCount - 1, 64);
        var accepted = _rng.Next(20) switch
        {
            0 => 1u << (int)Encapsulation.Mpls,
            1 => 1u << (int)Encapsulation.Nsh,
            2 => SfcLimits.AcceptAll & ~(1u << (int)Encapsulation.Srv6),
            3 => 1u << (int)Encapsulation.Srv6,
            _ => SfcLimits.AcceptAll,
        };
        var nextHop = _rng.Next(2) == 0 ? gen.Mac() : null;
        var raw = loaded;
        raw.KeyMode = (uint)mode;
        raw.MissPolicy = (uint)miss;
        raw.ConsumedSegments = consumed;
        raw.StaticLabelCount = (uint)staticStack.Length;
        raw.AcceptedEncaps = accepted;
        raw.LatencySampleEvery = _rng.Next(2) == 0 ? 1u : 64u;
        raw.MetaMaxAgeNs = metaMaxAgeNs;
        raw.MetaFingerprint = (uint)fingerprint;
        unsafe
        {
            for (var i = 0; i < SfcLimits.MaxLabels; i++)
                raw.StaticLabels[i] = i < staticStack.Length ? staticStack[i].ToNetworkOrder() : 0;
            KernelVnf.EgressMac.CopyTo(new Span<byte>(raw.EgressMac, 6));
            (nextHop ?? new byte[6]).CopyTo(new Span<byte>(raw.NshNextHopMac, 6));
        }
        // the SIDs stay as loaded (Srv6:Sids): the model needs them to tell SRv6 for the proxy from SRv6 for another node
        byte[][] sids = [.. srv6.Sids.Select(s => System.Net.IPAddress.Parse(s.Sid!).GetAddressBytes())];
        return (raw, new EgressConfig(consumed, miss, staticStack, nextHop, KernelVnf.EgressMac, accepted, sids));
    }
}
