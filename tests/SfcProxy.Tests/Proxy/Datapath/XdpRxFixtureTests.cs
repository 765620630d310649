using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// xdp_rx fixtures through BPF_PROG_TEST_RUN: each case is an input frame, the verdict, the frame
/// that must leave (null: the input, untouched) and the one outcome counter that must move.
/// </summary>
[TestClass]
public sealed class XdpRxFixtureTests
{
    internal sealed record RxCase(string Name, byte[] Frame, uint Verdict, byte[]? Expected, Counter Outcome, int Cached);

    private static readonly Dictionary<string, RxCase> Cases = Build().ToDictionary(c => c.Name);

    public static IEnumerable<object[]> CaseNames => Cases.Keys.Select(k => new object[] { k });

    private static IEnumerable<RxCase> Build()
    {
        const uint pass = ProxyTestRuns.XdpPass, drop = ProxyTestRuns.XdpDrop;
        foreach (var n in new[] { 1, 2, 10, SfcLimits.MaxLabels })
            foreach (var inner in Inner.All)
                yield return Popped($"{n}-labels-{inner.Name}", L2.Plain, n, inner);
        yield return Popped("vlan-ipv4-udp", L2.Dot1Q, 3, Inner.V4Udp);
        yield return Popped("qinq-ipv6-tcp", L2.QinQ, 3, Inner.V6Tcp);

        var over = Stacks.Push(Packet.Eth(), Stacks.Make(SfcLimits.MaxLabels + 1));
        yield return new("17-labels-too-many", Inner.V4Udp.On(over, 64).Build(), drop, null, Counter.RxTooManyLabels, 0);

        // Every entry without bottom of stack and the frame ends: the stack is cut short.
        var noBos = Packet.Eth().Mpls(16001, bos: false).Mpls(16002, bos: false).Mpls(16003, bos: false);
        yield return new("truncated-stack-no-bos", noBos.Build(), drop, null, Counter.RxTruncated, 0);
        var halfLabel = Packet.Eth().Mpls(16001, bos: false).Payload([0x03, 0xE8]);
        yield return new("truncated-half-label", halfLabel.Build(), drop, null, Counter.RxTruncated, 0);
        var shortIp = Packet.Eth().Mpls(16001).Payload([0x45, 0, 0, 20, 0, 0, 0, 0]);
        yield return new("truncated-inner-ipv4", shortIp.Build(), drop, null, Counter.RxTruncated, 0);
        var shortIp6 = Packet.Eth().Mpls(16001).Payload([.. new byte[] { 0x60 }, .. new byte[30]]);
        yield return new("truncated-inner-ipv6", shortIp6.Build(), drop, null, Counter.RxTruncated, 0);
        // An Ethernet frame (pseudowire-style) or garbage after the stack is not for this proxy.
        var notIp = Packet.Eth().Mpls(16001).Mpls(16002).Payload(64, seed: 0x10);
        yield return new("not-ip-after-stack", notIp.Build(), drop, null, Counter.RxNotIp, 0);

        yield return new("plain-ipv4-not-sfc", Inner.V4Udp.On(Packet.Eth(), 64).Build(), pass, null, Counter.RxNotSfc, 0);
        yield return new("plain-ipv6-vlan-not-sfc", Inner.V6Tcp.On(L2.Dot1Q.Eth(), 64).Build(), pass, null, Counter.RxNotSfc, 0);
        yield return new("arp-not-sfc", Packet.Eth(etherType: 0x0806).Payload(28).Build(), pass, null, Counter.RxNotSfc, 0);
        // Three VLAN tags: the proxy reads at most two, so this is not SFC traffic to it.
        var threeTags = L2.QinQ.Eth().Vlan(300).Mpls(16001);
        yield return new("three-vlans-not-sfc", Inner.V4Udp.On(threeTags, 64).Build(), pass, null, Counter.RxNotSfc, 0);
    }

    private static RxCase Popped(string name, L2 l2, int labels, Inner inner)
    {
        var frame = inner.On(Stacks.Push(l2.Eth(), Stacks.Make(labels)), 64).Build();
        var expected = inner.On(l2.Eth(), 64).Build();
        return new RxCase(name, frame, ProxyTestRuns.XdpPass, expected, Counter.RxPopped, 1);
    }

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void MetadataMode(string name) => Run(Cases[name], KeyMode.Metadata);

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void HeaderHashMode(string name) => Run(Cases[name], KeyMode.HeaderHash);

    private static void Run(RxCase c, KeyMode mode)
    {
        using var proxy = new ProxyUnderTest(mode);
        var r = proxy.Rx(c.Frame);

        Assert.AreEqual(c.Verdict, r.Verdict, $"{c.Name}: verdict");
        if (c.Verdict != ProxyTestRuns.XdpDrop)
            CollectionAssert.AreEqual(c.Expected ?? c.Frame, r.Frame, $"{c.Name}: output frame");
        Assert.AreEqual(c.Cached, proxy.CacheEntries, $"{c.Name}: cache entries");

        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(c.Outcome), $"{c.Name}: {c.Outcome} must count the packet; moved: {Format(moved)}");
        Assert.AreEqual(1ul, OutcomeSum(moved, "Rx"), $"{c.Name}: exactly one rx outcome; moved: {Format(moved)}");

        // Metadata mode leaves the key in front of a popped packet; header-hash mode leaves nothing.
        var popped = c.Outcome == Counter.RxPopped;
        Assert.AreEqual(popped && mode == KeyMode.Metadata, r.MetaKey is not null, $"{c.Name}: metadata key present");
        if (r.MetaKey is { } key)
        {
            Assert.AreNotEqual(0u, key & SfcLimits.DefaultMarkMask, "metadata keys lie in the default mark bits");
            Assert.AreEqual(0u, key & ~SfcLimits.DefaultMarkMask, "and nowhere else");
        }
    }

    internal static ulong OutcomeSum(Dictionary<Counter, ulong> moved, string prefix) =>
        moved.Where(kv => kv.Key.ToString().StartsWith(prefix, StringComparison.Ordinal)).Aggregate(0ul, (s, kv) => s + kv.Value);

    internal static string Format(Dictionary<Counter, ulong> moved) =>
        string.Join(", ", moved.Select(kv => $"{kv.Key}={kv.Value}"));
}
