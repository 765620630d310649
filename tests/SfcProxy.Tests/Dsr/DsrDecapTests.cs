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
    private const string Lb6 = "2001:2:ff::1", Backend6 = "2001:2:70::2", Client6 = "2001:2:50::7", Vip6 = "2001:2:60::10", NotAVip6 = "2001:2:60::11";

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

        // IPv6 outer headers (RFC 2473): next header 41 (IPv6 client) and 4 (IPv4 client, the migration case).
        Packet Outer6(byte nextHeader, byte trafficClass = 0) => Packet.Eth().IPv6(Lb6, Backend6, flowLabel: 0x12345, hopLimit: 63, nextHeader: nextHeader, trafficClass: trafficClass);
        Packet TcpSyn6(Packet p, string dst = Vip6) => p.IPv6(Client6, dst, flowLabel: 0xabcde, hopLimit: 60).Tcp(40000, 80, seq: 1000, flags: 0x02).Payload(12, 3);
        yield return new("ipv6-in-ipv6-decapsulated", TcpSyn6(Outer6(41)).Build(), TcOk, DsrDecapCounter.Decapsulated, TcpSyn6(Packet.Eth()).Build());
        yield return new("ipv4-in-ipv6-decapsulated", Udp(Outer6(4)).Build(), TcOk, DsrDecapCounter.Decapsulated, Udp(Packet.Eth()).Build());
        yield return new("ipv6-in-ipv6-not-vip-untouched", TcpSyn6(Outer6(41), NotAVip6).Build(), TcOk, DsrDecapCounter.NotVip);
        yield return new("ipv4-in-ipv6-ipv6-vip-not-an-ipv4-vip", Udp(Outer6(4), NotAVip).Build(), TcOk, DsrDecapCounter.NotVip);
        yield return new("ipv6-outer-fragment-untouched", Packet.Eth().IPv6(Lb6, Backend6, nextHeader: 44).Payload(48).Build(), TcOk, DsrDecapCounter.Fragment);
        yield return new("ipv6-outer-udp-untouched", Packet.Eth().IPv6(Lb6, Backend6).Udp().Build(), TcOk, DsrDecapCounter.NotIpip);
        var v6full = TcpSyn6(Outer6(41)).Build();
        yield return new("ipv6-truncated-inner-header", v6full[..(14 + 40 + 30)], TcOk, DsrDecapCounter.Malformed);
        var v4in6 = Udp(Outer6(41)).Build(); // next header says IPv6, an IPv4 packet follows
        yield return new("ipv6-next-header-41-inner-ipv4", v4in6, TcOk, DsrDecapCounter.Malformed);
        var v6short = (byte[])v6full.Clone();
        v6short[14 + 4] = 0;
        v6short[14 + 5] = 20; // outer payload length shorter than the inner header
        yield return new("ipv6-outer-payload-length-too-short", v6short, TcOk, DsrDecapCounter.Malformed);

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
        decap.Objects.SetVips([IPAddress.Parse(Vip), IPAddress.Parse(OtherVip), IPAddress.Parse(Vip6)]);

        var r = decap.Objects.Program.TestRun(c.Frame);
        Assert.AreEqual(c.Verdict, r.ReturnValue, $"{name}: tc verdict");
        var expected = c.Expected ?? c.Frame;
        Assert.AreEqual(Convert.ToHexString(expected), Convert.ToHexString(r.Data), $"{name}: output frame");
        if (c.Expected is not null && r.Data[12] == 0x08 && r.Data[13] == 0x00)
            Assert.IsTrue(Checksum.IPv4HeaderValid(r.Data, 14), $"{name}: inner IPv4 checksum");

        var moved = decap.Objects.ReadCounters().Where(kv => kv.Value != 0).ToDictionary();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(c.Counter), $"{name}: {c.Counter} must count it; moved: {string.Join(", ", moved)}");
        Assert.HasCount(1, moved, $"{name}: exactly one counter; moved: {string.Join(", ", moved)}");
    }

    /// <summary>RFC 6040 section 4.2, Figure 4, row by row: the ECN field (the low 2 bits of TOS / traffic class:
    /// 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE) the decapsulated packet leaves with, from the inner and outer
    /// fields; -1: dropped (inner Not-ECT under outer CE) and counted. The DSCP (46, EF) is kept. For each
    /// outer family and inner IPv4 (its header checksum must follow) and IPv6.</summary>
    [TestMethod]
    [DataRow(0, 0, 0), DataRow(0, 2, 0), DataRow(0, 1, 0), DataRow(0, 3, -1)]
    [DataRow(2, 0, 2), DataRow(2, 2, 2), DataRow(2, 1, 1), DataRow(2, 3, 3)]
    [DataRow(1, 0, 1), DataRow(1, 2, 1), DataRow(1, 1, 1), DataRow(1, 3, 3)]
    [DataRow(3, 0, 3), DataRow(3, 2, 3), DataRow(3, 1, 3), DataRow(3, 3, 3)]
    public void EcnLeavesAsRfc6040Says(int inner, int outer, int expected)
    {
        using var decap = new DecapUnderTest();
        decap.Objects.SetVips([IPAddress.Parse(Vip), IPAddress.Parse(Vip6)]);
        const byte Dscp = 46 << 2;
        Packet Inner4(Packet p, int ecn) => p.IPv4(Client, Vip, id: 99, ttl: 60, tos: (byte)(Dscp | ecn)).Udp(40001, 53).Payload(30, 5);
        Packet Inner6(Packet p, int ecn) => p.IPv6(Client6, Vip6, flowLabel: 0xabcde, hopLimit: 60, trafficClass: (byte)(Dscp | ecn)).Udp(40001, 53).Payload(30, 5);
        var cases = new (string Name, byte[] Frame, byte[] Expected)[]
        {
            ("4in4", Inner4(Packet.Eth().IPv4(Lb, Backend, tos: (byte)outer, protocol: 4), inner).Build(), Inner4(Packet.Eth(), expected).Build()),
            ("4in6", Inner4(Packet.Eth().IPv6(Lb6, Backend6, nextHeader: 4, trafficClass: (byte)outer), inner).Build(), Inner4(Packet.Eth(), expected).Build()),
            ("6in6", Inner6(Packet.Eth().IPv6(Lb6, Backend6, nextHeader: 41, trafficClass: (byte)outer), inner).Build(), Inner6(Packet.Eth(), expected).Build()),
        };
        foreach (var (name, frame, expectedFrame) in cases)
        {
            var r = decap.Objects.Program.TestRun(frame);
            if (expected < 0)
            {
                Assert.AreEqual(TcShot, r.ReturnValue, $"{name}: inner Not-ECT, outer CE: drop");
                continue;
            }
            Assert.AreEqual(TcOk, r.ReturnValue, name);
            Assert.AreEqual(Convert.ToHexString(expectedFrame), Convert.ToHexString(r.Data), $"{name}: inner ECN {inner} under outer {outer}");
        }
        var moved = decap.Objects.ReadCounters().Where(kv => kv.Value != 0).ToDictionary();
        Assert.AreEqual(3ul, moved.GetValueOrDefault(expected < 0 ? DsrDecapCounter.EcnDropped : DsrDecapCounter.Decapsulated), string.Join(", ", moved));
        Assert.HasCount(1, moved, string.Join(", ", moved));
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
        Assert.AreEqual((uint)DsrDecapObjects.MaxVips, decap.Objects.Vips6.MaxEntries, "DSR_DECAP_MAX_VIPS (IPv6)");
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
