using System.Net;
using System.Net.Sockets;
using SfcProxy.Net;

namespace SfcProxy.Tests.Policy.Differential;

/// <summary>A packet as the rules see it: addresses, protocol, TCP/UDP destination port, ICMP type.</summary>
internal readonly record struct FlowSpec(IPAddress Src, IPAddress Dst, byte Proto, ushort Port, byte IcmpType)
{
    public override string ToString() =>
        $"{Src} -> {Dst} {Proto switch { 6 => "tcp", 17 => "udp", 1 => "icmp", 58 => "icmpv6", _ => Proto.ToString(System.Globalization.CultureInfo.InvariantCulture) }}" +
        (Proto is 1 or 58 ? $" type {IcmpType}" : Proto is 6 or 17 ? $"/{Port}" : "");
}

/// <summary>
/// One connection of a script: TCP (handshake, data both ways, FIN or RST or nothing), a UDP or
/// protocol-253 flow (request/response, either side first), or an ICMP query (echo, timestamp;
/// requests and replies). <see cref="NftOpening"/> is what the judge's conntrack recorded as its
/// opening: the first of its opening packets nftables accepted. Conntrack knows connections by tuple,
/// not by conversation: two conversations with one tuple (protocol 253 between the same two hosts, say)
/// are one connection to both judges, so they share one <see cref="Tracked"/>.
/// </summary>
internal sealed class Conversation
{
    public required int Id { get; init; }
    public required string Kind { get; init; } // tcp, udp, raw, icmp, stray-tcp
    public required IPAddress A { get; init; } // the client / requester / first sender
    public required IPAddress B { get; init; }
    public ushort PortA { get; init; }
    public ushort PortB { get; init; }
    public byte IcmpRequest { get; init; }
    public ushort IcmpId { get; init; }
    public Queue<string> Plan { get; } = new();
    public uint SeqA { get; set; }
    public uint SeqB { get; set; }
    public Tracked Connection { get; set; } = new();
    public FlowSpec? NftOpening { get => Connection.NftOpening; set => Connection.NftOpening = value; }
    /// <summary>An opening packet of this connection carried AH and only SfcProxy let it through (see
    /// the README: nftables' rules stop at AH).</summary>
    public bool AhDiverged { get => Connection.AhDiverged; set => Connection.AhDiverged = value; }

    /// <summary>The conntrack tuple, direction-free for TCP/UDP/raw; an ICMP query's is its requester's.</summary>
    public string TupleKey
    {
        get
        {
            if (Kind == "icmp")
                return $"icmp {A} {B} {IcmpId} {IcmpRequest}";
            var (x, y) = ($"{A}:{PortA}", $"{B}:{PortB}");
            if (string.CompareOrdinal(x, y) > 0)
                (x, y) = (y, x);
            return $"{(Kind == "raw" ? 253 : Kind == "udp" ? 17 : 6)} {x} {y}";
        }
    }

    /// <summary>What the judges' conntrack holds for one tuple.</summary>
    internal sealed class Tracked
    {
        public FlowSpec? NftOpening { get; set; }
        public bool AhDiverged { get; set; }
    }

    public override string ToString() => $"#{Id} {Kind} {A}{(PortA != 0 ? $":{PortA}" : "")} <-> {B}{(PortB != 0 ? $":{PortB}" : "")}";
}

/// <summary>One packet of a script: its frame (as both judges get it), what the rules see, and its place.</summary>
/// <param name="Opens">An opening packet for the judge's conntrack (TCP SYN, ICMP request; UDP/raw: any).</param>
/// <param name="Quoted">The earlier packet an ICMP error quotes.</param>
/// <param name="Ah">The packet carries an IPv6 authentication header.</param>
internal sealed record ScriptPacket(int Index, ushort Tag, byte[] Frame, FlowSpec Flow, Conversation? Conversation,
    bool Opens, ScriptPacket? Quoted, string What, bool Ah)
{
    public override string ToString() => $"[{Index}] {What}{(Ah ? " (AH)" : "")}: {Flow}";
}

/// <summary>A step of a script: a packet, or a new policy for both judges.</summary>
internal abstract record ScriptStep;
internal sealed record PacketStep(ScriptPacket Packet) : ScriptStep;
internal sealed record PolicyStep(RandomPolicy Policy, string Change) : ScriptStep;

/// <summary>
/// Random connection sequences for one <see cref="RandomPolicy"/>: interleaved TCP connections (valid
/// sequence numbers, so nftables' window tracking agrees they are in window), UDP and protocol-253
/// flows, ICMP echo and timestamp queries, requests from the answering side with the same identifier,
/// replies nobody asked for, TCP segments without a handshake, ICMP errors quoting earlier packets
/// (addressed to the quoted sender, or not), IPv4 with and without options, IPv6 with and without
/// extension headers (hop-by-hop, destination options, routing, atomic fragment, AH), and one or two
/// rule additions or removals in the middle. Each frame's tag (IPv4 identification, IPv6 flow label)
/// is (salt &lt;&lt; 11) | index; <see cref="SentinelTag"/> is index 2047.
/// </summary>
internal sealed class TrafficScript
{
    public const int MaxPackets = 2000;
    private static readonly byte[] RouterMac = [0x02, 0, 0, 0, 0x01, 0x02];
    private static readonly byte[] SenderMac = [0x02, 0, 0, 0, 0x01, 0x01];

    private readonly Random _rng;
    private readonly int _salt;
    private readonly List<ScriptStep> _steps = [];
    private readonly List<ScriptPacket> _packets = [];
    private readonly List<Conversation> _live = [];
    private readonly Dictionary<string, Conversation.Tracked> _tuples = [];
    private RandomPolicy _policy;
    private int _conversations, _ruleNames;

    private TrafficScript(Random rng, RandomPolicy policy, int salt)
    {
        _rng = rng;
        _policy = policy;
        _salt = salt & 0x1F;
    }

    public IReadOnlyList<ScriptStep> Steps => _steps;
    public ushort SentinelTag => (ushort)((_salt << 11) | 0x7FF);

    /// <summary>The MAC of the judge's router port, the destination of every frame.</summary>
    public static byte[] JudgeRouterMac => RouterMac;
    public static byte[] JudgeSenderMac => SenderMac;

    public static TrafficScript Generate(Random rng, RandomPolicy policy, int salt, int packets)
    {
        var s = new TrafficScript(rng, policy, salt) { _ruleNames = policy.Rules.Count };
        var changes = new SortedSet<int>(Enumerable.Range(0, rng.Next(1, 3)).Select(_ => rng.Next(packets / 5, packets * 4 / 5)));
        while (s._packets.Count < packets)
        {
            if (changes.Count > 0 && s._packets.Count >= changes.Min)
            {
                changes.Remove(changes.Min);
                s.ChangePolicy();
            }
            s.Next();
        }
        return s;
    }

    /// <summary>The judge's sentinel: always accepted by the ruleset's first rule, sent after each batch.</summary>
    public byte[] Sentinel() =>
        Packet.Eth(RouterMac, SenderMac).IPv4(NftPolicy.SentinelSource.ToString(), "198.19.253.1", id: SentinelTag).Udp(9, 9).Build();

    private void ChangePolicy()
    {
        var rules = _policy.Rules.ToList();
        string change;
        if (rules.Count > 0 && _rng.Next(2) == 0)
        {
            var i = _rng.Next(rules.Count);
            change = $"removed {rules[i]}";
            rules.RemoveAt(i);
        }
        else
        {
            var r = RandomPolicy.RandomRule(_rng, _policy.Endpoints, $"r{_ruleNames++}");
            change = $"added {r}";
            rules.Insert(_rng.Next(rules.Count + 1), r);
        }
        _policy = _policy with { Rules = rules };
        _steps.Add(new PolicyStep(_policy, change));
    }

    private void Next()
    {
        var r = _rng.Next(100);
        if (r < 12 && _packets.Count > 3)
        {
            Error();
            return;
        }
        if (_live.Count < 2 || (_live.Count < 5 && r < 30))
            _live.Add(NewConversation());
        var c = _live[_rng.Next(_live.Count)];
        if (c.Plan.Count == 0)
        {
            _live.Remove(c);
            return;
        }
        Emit(c, c.Plan.Dequeue());
    }

    private (IPAddress A, IPAddress B, ushort Port) PickPair()
    {
        var hosts = _policy.AllHosts.ToList();
        // Half the time along a rule, so that plenty of traffic is allowed; else anything to anything.
        if (_policy.Rules.Count > 0 && _rng.Next(2) == 0)
        {
            var rule = _policy.Rules[_rng.Next(_policy.Rules.Count)];
            var from = HostsOf(rule.From).ToList();
            var to = HostsOf(rule.To).ToList();
            var family = _rng.Next(2) == 0 ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
            from = from.Where(h => h.AddressFamily == family).ToList();
            to = to.Where(h => h.AddressFamily == family).ToList();
            if (from.Count > 0 && to.Count > 0)
            {
                var port = rule.Ports.Where(p => p.Port != 0).Select(p => p.Port).DefaultIfEmpty(RandomPolicy.Ports[_rng.Next(RandomPolicy.Ports.Length)]).ElementAt(0);
                var a = from[_rng.Next(from.Count)];
                var b = to[_rng.Next(to.Count)];
                if (!a.Equals(b))
                    return (a, b, port);
            }
        }
        while (true)
        {
            var a = hosts[_rng.Next(hosts.Count)];
            var b = hosts[_rng.Next(hosts.Count)];
            if (!a.Equals(b) && a.AddressFamily == b.AddressFamily)
                return (a, b, RandomPolicy.Ports[_rng.Next(RandomPolicy.Ports.Length)]);
        }
    }

    private IEnumerable<IPAddress> HostsOf(SelectorSpec s) =>
        s.World ? RandomPolicy.WorldHosts : _policy.Endpoints.Where(e => s.Selects(e.Labels)).SelectMany(e => e.Hosts);

    private Conversation NewConversation()
    {
        var (a, b, port) = PickPair();
        var id = ++_conversations;
        var eph = (ushort)_rng.Next(20000, 60000);
        var v6 = a.AddressFamily == AddressFamily.InterNetworkV6;
        Conversation c;
        switch (_rng.Next(10))
        {
            case < 4:
                c = new Conversation { Id = id, Kind = "tcp", A = a, B = b, PortA = eph, PortB = port, SeqA = (uint)_rng.Next(), SeqB = (uint)_rng.Next() };
                c.Plan.Enqueue("syn");
                c.Plan.Enqueue("synack");
                c.Plan.Enqueue("ack");
                for (var i = _rng.Next(0, 6); i > 0; i--)
                    c.Plan.Enqueue(_rng.Next(2) == 0 ? "dataA" : "dataB");
                switch (_rng.Next(3))
                {
                    case 0:
                        foreach (var step in new[] { "finA", "ackB", "finB", "ackA" })
                            c.Plan.Enqueue(step);
                        break;
                    case 1:
                        c.Plan.Enqueue(_rng.Next(2) == 0 ? "rstA" : "rstB");
                        break;
                }
                break;
            case < 6:
            case 6 when _rng.Next(3) == 0:
                var raw = _rng.Next(5) == 0;
                c = new Conversation { Id = id, Kind = raw ? "raw" : "udp", A = a, B = b, PortA = raw ? (ushort)0 : eph, PortB = raw ? (ushort)0 : port };
                for (var i = _rng.Next(1, 6); i > 0; i--)
                    c.Plan.Enqueue(i % 2 == 1 || _rng.Next(3) == 0 ? "toB" : "toA");
                if (_rng.Next(5) == 0)
                    c.Plan.Enqueue("toA"); // the answering side speaks first now and then
                break;
            case < 9:
                var type = v6 ? (byte)128 : _rng.Next(4) == 0 ? (byte)13 : (byte)8;
                c = new Conversation { Id = id, Kind = "icmp", A = a, B = b, IcmpRequest = type, IcmpId = (ushort)_rng.Next(0, 65536) };
                var n = _rng.Next(1, 4);
                for (var i = 0; i < n; i++)
                {
                    if (_rng.Next(6) > 0)
                        c.Plan.Enqueue("request");
                    if (_rng.Next(6) > 0)
                        c.Plan.Enqueue("reply");
                }
                if (_rng.Next(3) == 0)
                    c.Plan.Enqueue("mirror"); // a request from B with A's identifier: another query
                break;
            default:
                c = new Conversation { Id = id, Kind = "stray-tcp", A = a, B = b, PortA = eph, PortB = port, SeqA = (uint)_rng.Next(), SeqB = (uint)_rng.Next() };
                for (var i = _rng.Next(1, 4); i > 0; i--)
                    c.Plan.Enqueue(_rng.Next(2) == 0 ? "strayA" : "strayB");
                break;
        }
        return Register(c);
    }

    /// <summary>A conversation on the tuple of an earlier one is the same connection to conntrack.</summary>
    private Conversation Register(Conversation c)
    {
        if (!_tuples.TryGetValue(c.TupleKey, out var t))
            _tuples[c.TupleKey] = t = new Conversation.Tracked();
        c.Connection = t;
        return c;
    }

    private void Emit(Conversation c, string step)
    {
        const byte Fin = 0x01, Syn = 0x02, Rst = 0x04, Psh = 0x08, Ack = 0x10;
        var fromA = step.EndsWith('A') || step is "syn" or "ack" or "toB" or "request";
        if (step is "synack" or "toA" or "reply")
            fromA = false;
        var (src, dst) = fromA ? (c.A, c.B) : (c.B, c.A);
        switch (c.Kind)
        {
            case "tcp":
            case "stray-tcp":
            {
                var (sp, dp) = fromA ? (c.PortA, c.PortB) : (c.PortB, c.PortA);
                uint seq = fromA ? c.SeqA : c.SeqB, ack = fromA ? c.SeqB : c.SeqA;
                byte flags;
                var data = 0;
                switch (step)
                {
                    case "syn": flags = Syn; ack = 0; c.SeqA++; break;
                    case "synack": flags = Syn | Ack; c.SeqB++; ack = c.SeqA; break;
                    case "finA": flags = Fin | Ack; c.SeqA++; break;
                    case "finB": flags = Fin | Ack; c.SeqB++; break;
                    case "rstA": case "rstB": flags = Rst | Ack; break;
                    case "dataA": case "dataB": case "strayA": case "strayB":
                        flags = Psh | Ack;
                        data = _rng.Next(1, 120);
                        if (fromA) c.SeqA += (uint)data; else c.SeqB += (uint)data;
                        break;
                    default: flags = Ack; break;
                }
                Add(c, new FlowSpec(src, dst, 6, dp, 0), step == "syn", $"{c} {step}",
                    ip => (data > 0 ? ip.Tcp(sp, dp, seq, ack, flags).Payload(data) : ip.Tcp(sp, dp, seq, ack, flags)));
                break;
            }
            case "udp":
            {
                var (sp, dp) = fromA ? (c.PortA, c.PortB) : (c.PortB, c.PortA);
                var data = _rng.Next(1, 100);
                Add(c, new FlowSpec(src, dst, 17, dp, 0), true, $"{c} {step}", ip => ip.Udp(sp, dp).Payload(data));
                break;
            }
            case "raw":
                // The builder names a bare payload protocol 253 (RFC 3692 experimental), after IPv4 and IPv6.
                Add(c, new FlowSpec(src, dst, 253, 0, 0), true, $"{c} {step}", ip => ip.Payload(_rng.Next(8, 64)));
                break;
            case "icmp":
            {
                var v6 = c.A.AddressFamily == AddressFamily.InterNetworkV6;
                var proto = v6 ? (byte)58 : (byte)1;
                if (step == "mirror")
                {
                    // The answering side asks with the requester's identifier: a query of its own.
                    var m = new Conversation { Id = ++_conversations, Kind = "icmp", A = c.B, B = c.A, IcmpRequest = c.IcmpRequest, IcmpId = c.IcmpId };
                    m.Plan.Enqueue("reply");
                    if (_rng.Next(2) == 0)
                        m.Plan.Enqueue("request");
                    _live.Add(Register(m));
                    Emit(m, "request");
                    return;
                }
                var type = step == "request" ? c.IcmpRequest : c.IcmpRequest switch { 8 => (byte)0, 128 => (byte)129, var t => (byte)(t + 1) };
                var seq = (ushort)_rng.Next(1, 100);
                Add(c, new FlowSpec(src, dst, proto, 0, type), step == "request", $"{c} {step} id {c.IcmpId}",
                    ip => ip.Icmp(type, 0, c.IcmpId, seq).Payload(c.IcmpRequest == 13 || c.IcmpRequest == 14 ? 12 : _rng.Next(8, 56)));
                break;
            }
        }
    }

    /// <summary>An ICMP error about an earlier packet: to its sender (related when that packet's connection
    /// is tracked), or now and then to someone else (never related).</summary>
    private void Error()
    {
        var candidates = _packets.Where(p => p.Quoted is null).ToList();
        var q = candidates[_rng.Next(candidates.Count)];
        var v6 = q.Flow.Src.AddressFamily == AddressFamily.InterNetworkV6;
        var bogus = _rng.Next(6) == 0;
        var to = bogus ? q.Flow.Dst : q.Flow.Src;
        var from = _rng.Next(2) == 0 ? (v6 ? RandomPolicy.Router6 : RandomPolicy.Router4) : bogus ? q.Flow.Src : q.Flow.Dst;
        var (type, code) = v6
            ? _rng.Next(4) switch { 0 => ((byte)1, (byte)_rng.Next(0, 5)), 1 => ((byte)2, (byte)0), 2 => ((byte)3, (byte)0), _ => ((byte)4, (byte)0) }
            : _rng.Next(4) switch { 0 => ((byte)3, (byte)_rng.Next(0, 4)), 1 => ((byte)3, (byte)4), 2 => ((byte)11, (byte)0), _ => ((byte)12, (byte)0) };
        var ip = q.Frame[14..];
        var ihl = v6 ? 40 : (ip[0] & 0x0F) * 4;
        var quoteLength = v6 ? Math.Min(ip.Length, 200) : Math.Min(ip.Length, ihl + 8 + _rng.Next(0, 3) * 20);
        var quote = ip[..quoteLength];
        ushort mtu = type == 2 ? (ushort)1280 : type == 3 && code == 4 ? (ushort)1400 : (ushort)0;
        Add(q.Conversation, new FlowSpec(from, to, v6 ? (byte)58 : (byte)1, 0, type), false,
            $"error {type}/{code} {(bogus ? "to the quoted receiver " : "")}quoting [{q.Index}] of {q.Conversation}",
            p => p.Icmp(type, code, 0, mtu).Payload(quote), quoted: q);
    }

    private void Add(Conversation? c, FlowSpec flow, bool opens, string what, Func<Packet, Packet> l4, ScriptPacket? quoted = null)
    {
        var index = _packets.Count;
        if (index >= MaxPackets)
            throw new InvalidOperationException("script too long for its tags");
        var tag = (ushort)((_salt << 11) | index);
        var eth = Packet.Eth(RouterMac, SenderMac);
        var ah = false;
        Packet ip;
        if (flow.Src.AddressFamily == AddressFamily.InterNetwork)
        {
            ip = eth.IPv4(flow.Src.ToString(), flow.Dst.ToString(), id: tag, ihlWords: (byte)(_rng.Next(6) == 0 ? 6 : 5));
        }
        else
        {
            ip = eth.IPv6(flow.Src.ToString(), flow.Dst.ToString(), flowLabel: tag);
            if (_rng.Next(3) == 0)
                (ip, ah) = ExtensionHeaders(ip);
        }
        var frame = l4(ip).Build();
        var sp = new ScriptPacket(index, tag, frame, flow, c, opens, quoted, what, ah);
        _packets.Add(sp);
        _steps.Add(new PacketStep(sp));
    }

    private (Packet Ip, bool Ah) ExtensionHeaders(Packet ip)
    {
        var ah = false;
        if (_rng.Next(3) == 0)
            ip = ip.HopByHop(_rng.Next(2) == 0 ? 8 : 16);
        if (_rng.Next(3) == 0)
            ip = ip.DestinationOptions();
        if (_rng.Next(3) == 0)
            ip = ip.RoutingHeader(253, 0, _rng.Next(2) == 0 ? 8 : 24);
        if (_rng.Next(3) == 0)
            ip = ip.Fragment(0, false, (uint)_rng.Next());
        if (_rng.Next(6) == 0)
        {
            ip = ip.Ah(16);
            ah = true;
        }
        return (ip.DestinationOptions(_rng.Next(2) == 0 ? 8 : 16), ah);
    }
}
