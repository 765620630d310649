using System.Net;
using SfcProxy.Bpf;
using SfcProxy.Dsr;
using SfcProxy.Net;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// dsr_decap in the real kernel through BPF_PROG_TEST_RUN: a table of fixtures (packet, verdict,
/// the exact frame that comes out, the one counter that must move), then the VIP set.
/// </summary>
[TestClass]
public sealed class DsrDecapTests
{
    private const uint TcOk = 0, TcShot = 2;
    private const string Lb = "198.51.100.1", Backend = "10.0.0.2", Client = "203.0.113.7";
    private const string Vip = "192.0.2.10", OtherVip = "192.0.2.99", NotAVip = "192.0.2.11";

    /// <param name="Expected">The frame that must come out; null: the input, untouched.</param>
    internal sealed record Case(string Name, byte[] Frame, uint Verdict, DsrDecapCounter Counter, byte[]? Expected = null);

    private static readonly Dictionary<string, Case> Cases = Build().ToDictionary(c => c.Name);

    public static IEnumerable<object[]> CaseNames => Cases.Keys.Select(k => new object[] { k });

    private static Packet Outer(byte ihlWords = 5, ushort fragOff = 0x4000) =>
        Packet.Eth().IPv4(Lb, Backend, id: 7, ttl: 63, fragOff: fragOff, ihlWords: ihlWords);

    private static IEnumerable<Case> Build()
    {
        // The inner frame is the client's packet as the client sent it (its own IP id, TTL, DF).
        Packet TcpSyn(Packet p, string dst = Vip) => p.IPv4(Client, dst, id: 4242, ttl: 60).Tcp(40000, 80, seq: 1000, flags: 0x02).Payload(12, 3);
        Packet Udp(Packet p, string dst = Vip) => p.IPv4(Client, dst, id: 99, ttl: 60).Udp(40001, 53).Payload(30, 5);

        yield return new("vip-tcp-decapsulated", TcpSyn(Outer()).Build(), TcOk, DsrDecapCounter.Decapsulated, TcpSyn(Packet.Eth()).Build());
        yield return new("vip-udp-decapsulated", Udp(Outer()).Build(), TcOk, DsrDecapCounter.Decapsulated, Udp(Packet.Eth()).Build());
        yield return new("second-vip-decapsulated", TcpSyn(Outer(), OtherVip).Build(), TcOk, DsrDecapCounter.Decapsulated, TcpSyn(Packet.Eth(), OtherVip).Build());
        yield return new("outer-options-decapsulated", Udp(Outer(ihlWords: 8)).Build(), TcOk, DsrDecapCounter.Decapsulated, Udp(Packet.Eth()).Build());
        yield return new("outer-df-clear-decapsulated", Udp(Outer(fragOff: 0)).Build(), TcOk, DsrDecapCounter.Decapsulated, Udp(Packet.Eth()).Build());
        yield return new("ipip-not-vip-untouched", TcpSyn(Outer(), NotAVip).Build(), TcOk, DsrDecapCounter.NotVip);
        yield return new("plain-tcp-to-vip-untouched", TcpSyn(Packet.Eth()).Build(), TcOk, DsrDecapCounter.NotIpip);
        yield return new("plain-udp-untouched", Packet.Eth().IPv4(Client, Backend).Udp().Build(), TcOk, DsrDecapCounter.NotIpip);
        yield return new("ipv6-untouched", Packet.Eth().IPv6().Tcp().Build(), TcOk, DsrDecapCounter.NotIpip);
        yield return new("arp-untouched", Packet.Eth(etherType: 0x0806).Payload(28).Build(), TcOk, DsrDecapCounter.NotIpip);
        yield return new("ipv6-in-ipv4-untouched", Packet.Eth().IPv4(Lb, Backend).IPv6().Udp().Build(), TcOk, DsrDecapCounter.NotIpip);
        yield return new("outer-fragment-untouched", Udp(Outer(fragOff: 0x2000)).Build(), TcOk, DsrDecapCounter.Fragment);
        yield return new("outer-later-fragment-untouched", Packet.Eth().IPv4(Lb, Backend, fragOff: 0x0010, protocol: 4).Payload(40).Build(), TcOk, DsrDecapCounter.Fragment);

        var full = TcpSyn(Outer()).Build();
        yield return new("truncated-inner-header", full[..(14 + 20 + 10)], TcOk, DsrDecapCounter.Malformed);
        yield return new("no-inner-header", full[..(14 + 20)], TcOk, DsrDecapCounter.Malformed);
        var ihl3 = (byte[])full.Clone();
        ihl3[14] = 0x43;
        yield return new("outer-ihl-too-small", ihl3, TcOk, DsrDecapCounter.Malformed);
        var ihl15 = Udp(Outer()).Build()[..(14 + 20 + 20 + 8)];
        ihl15[14] = 0x4f; // options beyond the end of the packet
        yield return new("outer-ihl-beyond-packet", ihl15, TcOk, DsrDecapCounter.Malformed);
        var inner6 = (byte[])full.Clone();
        inner6[14 + 20] = 0x65; // inner version 6
        yield return new("inner-not-ipv4", inner6, TcOk, DsrDecapCounter.Malformed);
        var shortTotal = (byte[])full.Clone();
        shortTotal[14 + 2] = 0;
        shortTotal[14 + 3] = 30; // outer total length shorter than both headers
        yield return new("outer-total-length-too-short", shortTotal, TcOk, DsrDecapCounter.Malformed);
    }

    [TestMethod]
    [DynamicData(nameof(CaseNames))]
    public void Fixture(string name)
    {
        var c = Cases[name];
        using var decap = new DecapUnderTest();
        decap.Objects.SetVips([IPAddress.Parse(Vip), IPAddress.Parse(OtherVip)]);

        var r = decap.Objects.Program.TestRun(c.Frame);
        Assert.AreEqual(c.Verdict, r.ReturnValue, $"{name}: tc verdict");
        var expected = c.Expected ?? c.Frame;
        Assert.AreEqual(Convert.ToHexString(expected), Convert.ToHexString(r.Data), $"{name}: output frame");
        if (c.Expected is not null)
            Assert.IsTrue(Checksum.IPv4HeaderValid(r.Data, 14), $"{name}: inner IPv4 checksum");

        var moved = decap.Objects.ReadCounters().Where(kv => kv.Value != 0).ToDictionary();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(c.Counter), $"{name}: {c.Counter} must count it; moved: {string.Join(", ", moved)}");
        Assert.HasCount(1, moved, $"{name}: exactly one counter; moved: {string.Join(", ", moved)}");
    }

    /// <summary>A GSO packet that is not TCP (the test run sets gso_size but no gso_type): the
    /// kernel refuses to shrink it (gso_size delimits datagrams), dsr_decap drops and counts it.
    /// (A GRO'd IP-in-IP TCP packet has SKB_GSO_TCPV4 and is decapsulated, gso_size kept.)</summary>
    [TestMethod]
    public void RefusedDecapsulationIsDroppedAndCounted()
    {
        using var decap = new DecapUnderTest();
        decap.Objects.AddVip(IPAddress.Parse(Vip));
        var frame = Packet.Eth().IPv4(Lb, Backend).IPv4(Client, Vip).Udp().Payload(100).Build();
        var r = SfcProxy.Proxy.ProxyTestRuns.RunTc(decap.Objects.Program, frame, gsoSize: 50);
        Assert.AreEqual(TcShot, r.Verdict);
        var moved = decap.Objects.ReadCounters().Where(kv => kv.Value != 0).ToDictionary();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(DsrDecapCounter.AdjustFailed), string.Join(", ", moved));
        Assert.HasCount(1, moved);
    }

    [TestMethod]
    public void CounterMirrorMatchesTheMap()
    {
        using var decap = new DecapUnderTest();
        Assert.AreEqual((uint)DsrDecapCounter.Max, decap.Objects.Counters.MaxEntries, "DSR_DECAP_CNT_MAX vs DsrDecapCounter.Max");
        Assert.AreEqual((uint)DsrDecapObjects.MaxVips, decap.Objects.Vips.MaxEntries, "DSR_DECAP_MAX_VIPS");
    }

    [TestMethod]
    public void VipSetIsReplacedWholeAndSurvivesReload()
    {
        using var decap = new DecapUnderTest();
        decap.Objects.SetVips([IPAddress.Parse("192.0.2.1"), IPAddress.Parse("192.0.2.2")]);
        decap.Objects.SetVips([IPAddress.Parse("192.0.2.2"), IPAddress.Parse("192.0.2.3")]);
        CollectionAssert.AreEqual(new[] { "192.0.2.2", "192.0.2.3" }, decap.Objects.ReadVips().Select(a => a.ToString()).ToArray());
        Assert.IsTrue(decap.Objects.RemoveVip(IPAddress.Parse("192.0.2.2")));
        decap.Objects.AddVip(IPAddress.Parse("::ffff:192.0.2.4"));
        decap.Objects.SetVips([IPAddress.Parse("192.0.2.3"), IPAddress.Parse("192.0.2.4"), IPAddress.Parse("2001:2:60::10")]);
        decap.Objects.AddVip(IPAddress.Parse("2001:2:60::11"));
        Assert.IsTrue(decap.Objects.RemoveVip(IPAddress.Parse("2001:2:60::10")));

        // A second load in the same instance directory sees the pinned VIPs.
        using var again = DsrDecapObjects.Load(decap.Objects.Pins);
        CollectionAssert.AreEqual(new[] { "192.0.2.3", "192.0.2.4", "2001:2:60::11" }, again.ReadVips().Select(a => a.ToString()).ToArray());
        var frame = Packet.Eth().IPv4(Lb, Backend).IPv4(Client, "192.0.2.4").Udp().Build();
        Assert.AreEqual(frame.Length - 20, again.Program.TestRun(frame).Data.Length);
        Assert.AreEqual(1ul, decap.Objects.ReadCounters()[DsrDecapCounter.Decapsulated], "counters are shared through the pin");
    }
}

internal sealed class DecapUnderTest : IDisposable
{
    private readonly BpfPins _pins = new($"dsrdecap-{Guid.NewGuid():N}"[..20]);

    public DecapUnderTest()
    {
        BpfEnvironmentCheck.Require();
        try
        {
            Objects = DsrDecapObjects.Load(_pins);
        }
        catch
        {
            _pins.Remove();
            throw;
        }
    }

    public DsrDecapObjects Objects { get; }

    public void Dispose()
    {
        try
        {
            Objects.Dispose();
        }
        finally
        {
            _pins.Remove();
        }
    }
}
