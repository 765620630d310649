using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using SfcProxy.Bpf;
using SfcProxy.Net;

namespace SfcProxy.Policy;

/// <summary>
/// What the policy datapath decided for one packet, as <c>sfcproxy policy check</c> reports it.
/// Deconstructs to <c>(bool allowed, uint ruleId, string reason)</c>.
/// </summary>
/// <param name="Allowed">The packet passes.</param>
/// <param name="RuleId">The rule that allowed it; 0 when none did (open destination, denied).</param>
/// <param name="Reason">One line for people, e.g. "allowed by rule 7 (identity 256 -> 300)".</param>
/// <param name="Outcome">The datapath's outcome counter for the packet.</param>
public readonly record struct PolicyProbe(bool Allowed, uint RuleId, string Reason, PolicyCounter Outcome,
    uint SourceIdentity, uint DestinationIdentity)
{
    /// <summary>Source port of the synthesized TCP/UDP packet.</summary>
    public const ushort ProbeSourcePort = 40000;
    public const uint TcOk = 0, TcShot = 2;

    public void Deconstruct(out bool allowed, out uint ruleId, out string reason) =>
        (allowed, ruleId, reason) = (Allowed, RuleId, Reason);

    /// <summary>
    /// Runs a synthesized packet from <paramref name="source"/> to <paramref name="destination"/>
    /// through the loaded policy_tc with BPF_PROG_TEST_RUN, as a probe: the program judges the live
    /// tables only (conntrack is neither consulted nor written, counters do not move) and answers
    /// in skb->cb, which the test run hands back. So the answer is the program's own, independent
    /// of the CPU the run lands on and of real traffic on the same maps.
    /// </summary>
    /// <param name="protocol">6 TCP, 17 UDP (to <paramref name="port"/>), 1 / 58 ICMP echo request
    /// (port ignored: the rule port of ICMP is its type, 8 / 128), anything else a bare IP packet.</param>
    public static PolicyProbe Check(PolicyObjects policy, IPAddress source, IPAddress destination, byte protocol, ushort port)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var frame = ProbePacket(source, destination, protocol, port);
        var ctx = new SkbContext { Mark = PolicyLimits.ProbeMark };
        var r = policy.Tc.TestRun(frame, MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref ctx, 1)), Marshal.SizeOf<SkbContext>());
        var answer = MemoryMarshal.Read<SkbContext>(r.Context);
        if (answer.Cb4 != PolicyLimits.ProbeMark)
            throw new InvalidOperationException($"{PolicyBpfNames.Tc.Program} did not answer the probe (verdict {r.ReturnValue}); is the loaded object older than this host?");
        var outcome = (PolicyCounter)answer.Cb0;
        var allowed = r.ReturnValue == TcOk;
        return new PolicyProbe(allowed, answer.Cb1, Describe(outcome, answer.Cb1, answer.Cb2, answer.Cb3), outcome, answer.Cb2, answer.Cb3);
    }

    /// <summary>The packet a check sends: TCP SYN / UDP from port 40000, or an ICMP echo request.</summary>
    public static byte[] ProbePacket(IPAddress source, IPAddress destination, byte protocol, ushort port)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.AddressFamily != destination.AddressFamily)
            throw new ArgumentException($"{source} and {destination} are not of one address family");
        var v6 = source.AddressFamily == AddressFamily.InterNetworkV6;
        var ip = v6
            ? Packet.Eth().IPv6(source.ToString(), destination.ToString(), nextHeader: Known(protocol) ? null : protocol)
            : Packet.Eth().IPv4(source.ToString(), destination.ToString(), protocol: Known(protocol) ? null : protocol);
        var p = protocol switch
        {
            6 => ip.Tcp(ProbeSourcePort, port, flags: 0x02),
            17 => ip.Udp(ProbeSourcePort, port),
            1 or 58 => ip.IcmpEcho(),
            _ => ip.Payload(8),
        };
        return p.Build();
    }

    private static bool Known(byte protocol) => protocol is 6 or 17 or 1 or 58;

    private static string Describe(PolicyCounter outcome, uint ruleId, uint src, uint dst) => outcome switch
    {
        PolicyCounter.AllowedRule => $"allowed by rule {ruleId} (identity {src} -> {dst})",
        PolicyCounter.AllowedNotEnforced => $"allowed: destination identity {dst} is not selected by any rule (identity {src} -> {dst})",
        PolicyCounter.AllowedReply => $"allowed as a reply of a tracked connection (rule {ruleId})",
        PolicyCounter.AllowedRelated => $"allowed as an ICMP error about a tracked connection (rule {ruleId})",
        PolicyCounter.AllowedNd => "allowed: IPv6 neighbour discovery is exempt from policy",
        PolicyCounter.DeniedDefault => $"denied: no rule allows identity {src} -> {dst} for this protocol and port (default deny)",
        PolicyCounter.NotIp => "allowed: not IP",
        PolicyCounter.Malformed => "denied: malformed packet",
        _ => $"outcome {outcome}",
    };
}
