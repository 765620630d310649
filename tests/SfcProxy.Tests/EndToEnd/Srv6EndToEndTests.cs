namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// End-to-end with SRv6 End.AD (docs/srv6.md) through the real daemon. Two kinds of sender:
/// sfc_traffic.py (srv6_headers.py), whose every packet carries its own outer IPv6 header and SRH
/// (segment lists of 1 to 12 entries, reduced SRHs, tags, flags, Pad1/PadN/HMAC/opaque TLVs,
/// hop-by-hop and destination options, hop limits, flow labels), checked byte for byte by the
/// receiver: a proxy keeping one SRH per SID or per flow fails it; and the kernel itself
/// (<see cref="Srv6KernelEndToEndTests"/>).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class Srv6EndToEndTests
{
    /// <summary>Share of SRv6 packets sent with hop limit 0/1: End.AD cannot forward them.</summary>
    private const string ExpiredShare = "0.02";

    public TestContext TestContext { get; set; } = null!;

    /// <summary>SRv6 only (Encapsulations ["srv6"]). Metadata key with the kernel VNF (one IP hop);
    /// header-hash key with the user-mode TUN VNF (two IP hops: the inner packet crosses user space
    /// and finds its headers by its own fields).</summary>
    [TestMethod]
    [DataRow("metadata", false, DisplayName = "SRv6, metadata key, kernel VNF")]
    [DataRow("header-hash", true, DisplayName = "SRv6, header-hash key, user-mode TUN VNF")]
    public void Srv6_RestoresEveryPacketsOwnSrh(string keyMode, bool userVnf) =>
        EndToEndScenario.Run(TestContext,
            new ScenarioOptions(keyMode, userVnf, IpHops: userVnf ? 2 : 1)
            {
                Encap = "srv6",
                Encapsulations = ["srv6"],
                PacketCount = 800,
                GeneratorArgs = ["--srv6-expired", ExpiredShare],
            },
            AssertSrv6Counters);

    /// <summary>MPLS, NSH and SRv6 interleaved at random through ONE instance (Encapsulations
    /// ["mpls","nsh","srv6"]); with the kernel VNF NSH carries next protocol Ethernet too (not
    /// through a TUN, which carries IP only).</summary>
    [TestMethod]
    [DataRow("metadata", false, DisplayName = "MPLS+NSH+SRv6, metadata key, kernel VNF")]
    [DataRow("header-hash", true, DisplayName = "MPLS+NSH+SRv6, header-hash key, user-mode TUN VNF")]
    public void MixedMplsNshSrv6_RestoresEveryHeader(string keyMode, bool userVnf) =>
        EndToEndScenario.Run(TestContext,
            new ScenarioOptions(keyMode, userVnf, IpHops: userVnf ? 2 : 1)
            {
                Encap = "all",
                Encapsulations = ["mpls", "nsh", "srv6"],
                NshNextHopIsReceiver = true,
                PacketCount = 1200,
                GeneratorArgs = [.. userVnf ? ["--nsh-no-ethernet"] : Array.Empty<string>(),
                    "--nsh-expired", ExpiredShare, "--srv6-expired", ExpiredShare],
            },
            AssertMixed);

    private static void AssertMixed(ScenarioOutcome o)
    {
        Assert.IsGreaterThan(0, o.ReceiverInt("ok_mpls"), $"the mixed run delivered no MPLS packet.\n{o.Diagnostics}");
        Assert.IsGreaterThan(0, o.ReceiverInt("ok_nsh"), $"the mixed run delivered no NSH packet.\n{o.Diagnostics}");
        AssertSrv6Counters(o);
    }

    /// <summary>Every SRv6 packet was popped at the ingress (expired ones and the VNF's dropped flow
    /// too: the proxy cannot tell them yet), every delivered one was restored, and the senders'
    /// headers really were all different (else a proxy caching one SRH could pass).</summary>
    private static void AssertSrv6Counters(ScenarioOutcome o)
    {
        var delivered = o.ReceiverInt("ok_srv6");
        var sent = o.Receiver.GetProperty("sent").GetProperty("srv6");
        var total = sent.GetProperty("total").GetInt32();
        Assert.IsGreaterThan(0, delivered, $"no SRv6 packet was delivered.\n{o.Diagnostics}");
        Assert.AreEqual(total, sent.GetProperty("distinct_headers").GetInt32(),
            $"the generator should give every SRv6 packet its own headers.\n{o.Diagnostics}");
        Assert.AreEqual<long?>(total, o.Counter("srv6_popped"), $"srv6_popped should count every SRv6 packet sent.\n{o.Diagnostics}");
        Assert.AreEqual<long?>(delivered, o.Counter("srv6_restored"),
            $"srv6_restored should count exactly the SRv6 packets delivered.\n{o.Diagnostics}");
        Assert.AreEqual(o.ReceiverInt("expected_srv6"), delivered, $"SRv6 packets delivered with their own headers.\n{o.Diagnostics}");
    }
}
