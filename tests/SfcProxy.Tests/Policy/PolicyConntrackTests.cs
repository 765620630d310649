using System.Net;
using SfcProxy.Net;
using SfcProxy.Policy;

namespace SfcProxy.Tests.Policy;

/// <summary>
/// Connection tracking of policy_tc through BPF_PROG_TEST_RUN, packet sequences in order: who opened a
/// connection (TCP SYN, first UDP packet, ICMP request), which packets are its replies (never an ICMP
/// request, never a packet with flags no TCP stack sends), which ICMP errors are related to it (they
/// quote one of its packets and go to that packet's sender), and what a rule removal does to it.
/// Endpoints: a 198.18.1.0/24 2001:2:1::/64, b 198.18.2.0/24 2001:2:2::/64; everything else is world
/// (198.19.0.0/16, 2001:2:ff::/64 here).
/// </summary>
[TestClass]
public sealed class PolicyConntrackTests
{
    private const uint A = 256, B = 257;
    private const string A4 = "198.18.1.5", B4 = "198.18.2.7", B4Other = "198.18.2.8", W4 = "198.19.0.9", R4 = "198.19.7.1";
    private const string A6 = "2001:2:1::5", B6 = "2001:2:2::7", W6 = "2001:2:ff::9", R6 = "2001:2:ff::1";
    private const byte Tcp = 6, Udp = 17, Icmp = 1, IcmpV6 = 58;
    private const byte Syn = 0x02, SynAck = 0x12, Ack = 0x10, Rst = 0x04, SynFin = 0x03;

    private static readonly IdentityPrefix[] Prefixes =
    [
        new(IPNetwork.Parse("198.18.1.0/24"), A), new(IPNetwork.Parse("2001:2:1::/64"), A),
        new(IPNetwork.Parse("198.18.2.0/24"), B), new(IPNetwork.Parse("2001:2:2::/64"), B),
    ];

    private static PolicyTables Tables(params RuleEntry[] rules) =>
        new(Prefixes, [.. rules.Select(r => r.DestinationIdentity).Distinct()], rules);

    /// <summary>The issue's endpoint b: enforced, only world may reach it on tcp/80. It is also a client.</summary>
    private static readonly PolicyTables WorldToB80 = Tables(new RuleEntry(ReservedIdentity.World, B, Tcp, 80, 1));

    [TestMethod]
    public void AnEnforcedEndpointIsAClientToo_RepliesAndRelatedErrorsOfItsConnectionsPass()
    {
        using var p = new PolicyUnderTest();
        p.Objects.Apply(WorldToB80);
        p.Expect("b -> world udp/53 (world is open)", true, V4(B4, W4).Udp(40000, 53));
        p.Expect("the DNS answer", true, V4(W4, B4).Udp(53, 40000), PolicyCounter.AllowedReply);
        p.Expect("b -> world SYN tcp/443", true, V4(B4, W4).Tcp(41000, 443, flags: Syn));
        p.Expect("its SYN-ACK", true, V4(W4, B4).Tcp(443, 41000, flags: SynAck), PolicyCounter.AllowedReply);
        p.Expect("fragmentation needed from a router to b, quoting b's segment", true,
            V4(R4, B4).Icmp(3, 4, seq: 1400).Payload(Quote(V4(B4, W4).Tcp(41000, 443, flags: Ack))), PolicyCounter.AllowedRelated);
        p.Expect("b -> world ping", true, V4(B4, W4).IcmpEcho(9, 1));
        p.Expect("its echo reply", true, V4(W4, B4).Icmp(0, id: 9, seq: 1), PolicyCounter.AllowedReply);
        p.Expect("world -> b tcp/80, the rule", true, V4(W4, B4).Tcp(42000, 80, flags: Syn), PolicyCounter.AllowedRule);
        p.Expect("world -> b tcp/81, no rule", false, V4(W4, B4).Tcp(42000, 81, flags: Syn), PolicyCounter.DeniedDefault);
        // IPv6: the answer to b's query and the packet-too-big of its connection (quoting an extension header).
        p.Expect("b -> world udp/53 over IPv6", true, V6(B6, W6).Udp(40001, 53));
        p.Expect("its answer", true, V6(W6, B6).Udp(53, 40001), PolicyCounter.AllowedReply);
        p.Expect("b -> world SYN over IPv6", true, V6(B6, W6).Tcp(41001, 443, flags: Syn));
        p.Expect("packet too big from a router, quoting b's segment with a destination options header", true,
            V6(R6, B6).Icmp(2, 0, 0, 1280).Payload(Quote(V6(B6, W6).DestinationOptions().Tcp(41001, 443, flags: Ack))), PolicyCounter.AllowedRelated);
    }

    [TestMethod]
    public void AnEchoRequestIsNeverAReply_OnlyTheReplyTypeOfATrackedRequestIs()
    {
        // a and b both enforced: b may ping a, nothing allows a -> b.
        using var p = new PolicyUnderTest();
        p.Objects.Apply(Tables(new RuleEntry(B, A, Icmp, 0, 1), new RuleEntry(B, A, IcmpV6, 0, 1), new RuleEntry(A, B, Udp, 9999, 2)));
        p.Expect("b -> a echo request id 77", true, V4(B4, A4).IcmpEcho(77, 1), PolicyCounter.AllowedRule);
        p.Expect("a -> b echo request id 77: a request, not b's reply", false, V4(A4, B4).IcmpEcho(77, 1), PolicyCounter.DeniedDefault);
        p.Expect("a -> b echo reply id 77", true, V4(A4, B4).Icmp(0, id: 77, seq: 1), PolicyCounter.AllowedReply);
        p.Expect("a -> b echo reply id 78: no such request", false, V4(A4, B4).Icmp(0, id: 78, seq: 1), PolicyCounter.DeniedDefault);
        p.Expect("a -> b timestamp reply id 77: not the reply type of an echo", false, V4(A4, B4).Icmp(14, id: 77), PolicyCounter.DeniedDefault);
        p.Expect("b -> a destination unreachable quoting nothing tracked", true,
            V4(B4, A4).Icmp(3, 3).Payload(Quote(V4(A4, B4).Udp(5000, 6000))), PolicyCounter.AllowedRule);
        p.Expect("a -> b timestamp request after that error", false, V4(A4, B4).Icmp(13), PolicyCounter.DeniedDefault);
        p.Expect("a -> b echo request id 0 after that error", false, V4(A4, B4).IcmpEcho(0, 0), PolicyCounter.DeniedDefault);
        // The same over ICMPv6.
        p.Expect("b -> a ICMPv6 echo request id 5", true, V6(B6, A6).IcmpEcho(5, 1), PolicyCounter.AllowedRule);
        p.Expect("a -> b ICMPv6 echo request id 5", false, V6(A6, B6).IcmpEcho(5, 1), PolicyCounter.DeniedDefault);
        p.Expect("a -> b ICMPv6 echo reply id 5", true, V6(A6, B6).Icmp(129, id: 5, seq: 1), PolicyCounter.AllowedReply);
    }

    [TestMethod]
    public void AnErrorIsRelatedOnlyWhenItQuotesATrackedConnectionAndGoesToTheQuotedSender()
    {
        using var p = new PolicyUnderTest();
        p.Objects.Apply(WorldToB80);
        p.Expect("b -> world SYN tcp/443", true, V4(B4, W4).Tcp(41000, 443, flags: Syn));
        p.Expect("an error quoting another port of b", false,
            V4(R4, B4).Icmp(3, 4).Payload(Quote(V4(B4, W4).Tcp(41000, 444, flags: Syn))), PolicyCounter.DeniedDefault);
        p.Expect("an error quoting b's connection, sent to another address of b", false,
            V4(R4, B4Other).Icmp(3, 4).Payload(Quote(V4(B4, W4).Tcp(41000, 443, flags: Syn))), PolicyCounter.DeniedDefault);
        p.Expect("an error quoting the connection's reply direction, sent to world (its sender)", true,
            V4(B4, W4).Icmp(3, 3).Payload(Quote(V4(W4, B4).Tcp(443, 41000, flags: SynAck))), PolicyCounter.AllowedRelated);
        p.Expect("an error quoting b's connection, to b", true,
            V4(W4, B4).Icmp(11, 0).Payload(Quote(V4(B4, W4).Tcp(41000, 443, flags: Syn))), PolicyCounter.AllowedRelated);
        p.Expect("an error whose quote is cut inside the IP header", false,
            V4(R4, B4).Icmp(3, 4).Payload(Quote(V4(B4, W4).Tcp(41000, 443, flags: Syn))[..12]), PolicyCounter.DeniedDefault);
        p.Expect("an error quoting b's ping, to b", false,
            V4(R4, B4).Icmp(3, 1).Payload(Quote(V4(B4, W4).IcmpEcho(3, 1))), PolicyCounter.DeniedDefault);
        p.Expect("b pings world", true, V4(B4, W4).IcmpEcho(3, 1));
        p.Expect("an error quoting b's ping, to b, now that it is tracked", true,
            V4(R4, B4).Icmp(3, 1).Payload(Quote(V4(B4, W4).IcmpEcho(3, 1))), PolicyCounter.AllowedRelated);
        p.Expect("an error quoting an error", false,
            V4(R4, B4).Icmp(3, 1).Payload(Quote(V4(B4, W4).Icmp(3, 1).Payload(Quote(V4(W4, B4).Udp(1, 2))))), PolicyCounter.DeniedDefault);
    }

    [TestMethod]
    public void TheSynDecidesWhoOpened_APacketFromTheServerSideOpensNothing()
    {
        // The issue's flip: b enforced, rule a -> b tcp/80; a is open.
        var withRule = Tables(new RuleEntry(A, B, Tcp, 80, 1));
        using var p = new PolicyUnderTest();
        p.Objects.Apply(withRule);
        p.Expect("a:6000 -> b:80 SYN", true, V4(A4, B4).Tcp(6000, 80, flags: Syn), PolicyCounter.AllowedRule);
        p.Expect("b:80 -> a:6000 SYN-ACK", true, V4(B4, A4).Tcp(80, 6000, flags: SynAck), PolicyCounter.AllowedReply);
        p.ForgetConnections(); // LRU eviction or a flush
        p.Expect("b:80 -> a:6000 ACK (a is open)", true, V4(B4, A4).Tcp(80, 6000, flags: Ack), PolicyCounter.AllowedNotEnforced);
        p.Objects.Apply(Tables(new RuleEntry(A, B, Udp, 53, 2))); // the tcp/80 rule removed
        p.Expect("a:6000 -> b:80 ACK after the rule's removal: b's ACK did not make a the answering side", false,
            V4(A4, B4).Tcp(6000, 80, flags: Ack), PolicyCounter.DeniedDefault);
        // UDP has no start marker: the first packet of a flow opens it, from the side it came from.
        p.Expect("b:53 -> a:7000 udp (a is open): b opens", true, V4(B4, A4).Udp(53, 7000), PolicyCounter.AllowedNotEnforced);
        p.Expect("a:7000 -> b:53 udp, reply of b's flow", true, V4(A4, B4).Udp(7000, 53), PolicyCounter.AllowedReply);
        Assert.AreEqual(1, p.Objects.Conntrack.Count(), "only b's UDP flow is tracked (a TCP packet without SYN opens nothing)");
    }

    [TestMethod]
    public void RemovingARuleStopsItsOpenConnectionsInBothDirectionsAtOnce_AndRestoringItResumesThem()
    {
        // a and b both enforced: only the rule lets a's connection to b exist.
        var with = Tables(new RuleEntry(A, B, Tcp, 80, 1), new RuleEntry(B, A, Udp, 53, 2));
        var without = Tables(new RuleEntry(B, A, Udp, 53, 2), new RuleEntry(A, B, Udp, 53, 3)); // b stays enforced
        using var p = new PolicyUnderTest();
        p.Objects.Apply(with);
        p.Expect("a -> b SYN", true, V4(A4, B4).Tcp(6000, 80, flags: Syn), PolicyCounter.AllowedRule);
        p.Expect("b -> a SYN-ACK", true, V4(B4, A4).Tcp(80, 6000, flags: SynAck), PolicyCounter.AllowedReply);
        p.Objects.Apply(without);
        p.Expect("b -> a data, before any forward packet", false, V4(B4, A4).Tcp(80, 6000, flags: Ack), PolicyCounter.DeniedDefault);
        p.Expect("a -> b data", false, V4(A4, B4).Tcp(6000, 80, flags: Ack), PolicyCounter.DeniedDefault);
        Assert.AreEqual(2ul, p.Objects.ReadCounters()[PolicyCounter.CtRevoked], "both denied packets belonged to the connection");
        p.Objects.Apply(with);
        p.Expect("b -> a data, rule back", true, V4(B4, A4).Tcp(80, 6000, flags: Ack), PolicyCounter.AllowedReply);
        p.Expect("a -> b data, rule back", true, V4(A4, B4).Tcp(6000, 80, flags: Ack), PolicyCounter.AllowedRule);
    }

    [TestMethod]
    public void PacketsWithFlagsNoTcpSendsAreNeverReplies()
    {
        using var p = new PolicyUnderTest();
        p.Objects.Apply(Tables(new RuleEntry(A, B, Tcp, 80, 1), new RuleEntry(B, A, Udp, 53, 2)));
        p.Expect("a -> b SYN", true, V4(A4, B4).Tcp(6000, 80, flags: Syn));
        p.Expect("b -> a SYN|FIN on the connection", false, V4(B4, A4).Tcp(80, 6000, flags: SynFin), PolicyCounter.DeniedDefault);
        p.Expect("b -> a no flags on the connection", false, V4(B4, A4).Tcp(80, 6000, flags: 0), PolicyCounter.DeniedDefault);
        p.Expect("b -> a RST on the connection", true, V4(B4, A4).Tcp(80, 6000, flags: Rst), PolicyCounter.AllowedReply);
        p.Expect("b -> a SYN on the connection: an opening, b -> a tcp has no rule", false, V4(B4, A4).Tcp(80, 6000, flags: Syn), PolicyCounter.DeniedDefault);
    }

    [TestMethod]
    public void Ipv6ExtensionHeadersAreWalkedToTheTransportHeader()
    {
        using var p = new PolicyUnderTest();
        p.Objects.Apply(Tables(new RuleEntry(A, B, Tcp, 80, 1), new RuleEntry(B, A, Udp, 53, 2)));
        p.Expect("hop-by-hop, tcp/80", true, V6(A6, B6).HopByHop().Tcp(6000, 80, flags: Syn), PolicyCounter.AllowedRule);
        p.Expect("its reply behind destination options and a routing header", true,
            V6(B6, A6).DestinationOptions(16).RoutingHeader().Tcp(80, 6000, flags: SynAck), PolicyCounter.AllowedReply);
        p.Expect("atomic fragment, tcp/80", true, V6(A6, B6).Fragment().Tcp(6001, 80, flags: Syn), PolicyCounter.AllowedRule);
        p.Expect("hop-by-hop + AH, tcp/80", true, V6(A6, B6).HopByHop().Ah().Tcp(6002, 80, flags: Syn), PolicyCounter.AllowedRule);
        p.Expect("hop-by-hop, tcp/81", false, V6(A6, B6).HopByHop().Tcp(6000, 81, flags: Syn), PolicyCounter.DeniedDefault);
        p.Expect("hop-by-hop, udp/80", false, V6(A6, B6).HopByHop().Udp(6000, 80), PolicyCounter.DeniedDefault);
        p.Expect("first fragment of tcp/80", true, V6(A6, B6).Fragment(0, more: true, id: 9).Tcp(6003, 80, flags: Syn), PolicyCounter.AllowedRule);
        p.Expect("a later fragment: no ports, the exact-port rule cannot allow it", false,
            V6(A6, B6, nextHeader: 44).Payload([6, 0, 0, 0xB9, 0, 0, 0, 9, .. new byte[24]]), PolicyCounter.DeniedDefault);
        p.Expect("nine extension headers: more than a legitimate chain has", false,
            Enumerable.Range(0, 9).Aggregate(V6(A6, B6), (x, _) => x.DestinationOptions()).Tcp(6000, 80, flags: Syn), PolicyCounter.Malformed);
        p.Expect("a routing header cut short", false, V6(A6, B6, nextHeader: 43).Payload([6, 1, 253, 0, 0, 0, 0, 0]), PolicyCounter.Malformed);
    }

    [TestMethod]
    public void AnyPortRulesAllowLaterFragments()
    {
        using var p = new PolicyUnderTest();
        p.Objects.Apply(Tables(new RuleEntry(A, B, Tcp, 0, 1)));
        p.Expect("IPv6 later fragment of tcp under a tcp any-port rule", true,
            V6(A6, B6, nextHeader: 44).Payload([6, 0, 0, 0xB9, 0, 0, 0, 9, .. new byte[24]]), PolicyCounter.AllowedRule);
        p.Expect("IPv4 later fragment of tcp", true, Packet.Eth().IPv4(A4, B4, protocol: 6, fragOff: 0x00B9).Payload(24), PolicyCounter.AllowedRule);
        p.Expect("IPv4 later fragment of udp", false, Packet.Eth().IPv4(A4, B4, protocol: 17, fragOff: 0x00B9).Payload(24), PolicyCounter.DeniedDefault);
    }

    private static Packet V4(string s, string d) => Packet.Eth().IPv4(s, d);

    private static Packet V6(string s, string d, byte? nextHeader = null) => Packet.Eth().IPv6(s, d, nextHeader: nextHeader);

    /// <summary>The IP packet of a frame (what an ICMP error quotes).</summary>
    internal static byte[] Quote(Packet frame) => frame.Build()[14..];
}

internal static class PolicyUnderTestSequences
{
    /// <summary>Runs one packet through policy_tc and asserts its verdict and, when given, the one outcome counter it moved.</summary>
    public static void Expect(this PolicyUnderTest p, string what, bool allowed, Packet packet, PolicyCounter? outcome = null)
    {
        var before = p.MovedOutcomes();
        var verdict = p.RunTc(packet.Build());
        var after = p.MovedOutcomes();
        var moved = after.Where(kv => kv.Value != before.GetValueOrDefault(kv.Key)).Select(kv => kv.Key).ToList();
        var detail = $"{what}: moved [{string.Join(", ", moved)}]";
        Assert.AreEqual(allowed ? PolicyProbe.TcOk : PolicyProbe.TcShot, verdict, $"{detail}: verdict");
        if (outcome is { } o)
            CollectionAssert.AreEqual(new[] { o }, moved, $"{detail}: outcome");
    }

    /// <summary>Empties conntrack, as LRU eviction or a flush would.</summary>
    public static void ForgetConnections(this PolicyUnderTest p)
    {
        foreach (var k in p.Objects.Conntrack.Keys<PolCtKey>().ToList())
            p.Objects.Conntrack.Delete(k);
    }
}
