namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// End-to-end with NSH (RFC 8300) over Ethernet: MD type 1 (fixed context) and MD type 2 (no TLV,
/// one, several, up to Length 63, value lengths not a multiple of 4), O bit sometimes, random SPI,
/// SI 2..255, TTL 2..63, plus a few packets with TTL or SI 0/1 that the proxy must drop. The
/// receiver checks every packet: arrived once, NSH byte-identical to the sent one except TTL - 1
/// and SI - 1, outer Ethernet (dst as routed, or Nsh:NextHopMac for next protocol Ethernet; src
/// the proxy egress), the inner Ethernet frame the VNF emitted, inner IP TTL - the VNF's hops,
/// payload intact. Then the daemon's nsh_popped / nsh_restored counters must have moved.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class NshEndToEndTests
{
    /// <summary>Share of NSH packets generated with TTL or SI exhausted (must not arrive).</summary>
    private const string ExpiredShare = "0.02";

    public TestContext TestContext { get; set; } = null!;

    /// <summary>MPLS and NSH interleaved at random through ONE instance (Encapsulations
    /// ["mpls","nsh"]), metadata key, kernel VNF. NSH next protocols IPv4, IPv6 and Ethernet (the
    /// inner Ethernet frame is addressed to the proxy ingress, so the kernel routes it).</summary>
    [TestMethod]
    public void MixedMplsAndNsh_MetadataKey_KernelVnf_RestoresEveryHeader() =>
        EndToEndScenario.Run(TestContext,
            new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1)
            {
                Encap = "mixed",
                Encapsulations = ["mpls", "nsh"],
                NshNextHopIsReceiver = true,
                PacketCount = 1600, // about 800 of each
                GeneratorArgs = ["--nsh-expired", ExpiredShare],
            },
            o =>
            {
                Assert.IsGreaterThan(0, o.ReceiverInt("ok_mpls"), $"the mixed run delivered no MPLS packet.\n{o.Diagnostics}");
                AssertNshCounters(o);
            });

    /// <summary>NSH only (Encapsulations ["nsh"]), header-hash key, user-mode TUN VNF: two IP
    /// hops. Next protocol IPv4/IPv6 only: a TUN device carries IP packets, so a VNF behind it can
    /// never receive (or emit) the inner Ethernet frame of next protocol Ethernet.</summary>
    [TestMethod]
    public void Nsh_HeaderHashKey_UserModeTunVnf_RestoresEveryHeader() =>
        EndToEndScenario.Run(TestContext,
            new ScenarioOptions(KeyMode: "header-hash", UserVnf: true, IpHops: 2)
            {
                Encap = "nsh",
                Encapsulations = ["nsh"],
                NshNextHopIsReceiver = true,
                GeneratorArgs = ["--nsh-no-ethernet", "--nsh-expired", ExpiredShare],
            },
            AssertNshCounters);

    /// <summary>MPLS and NSH interleaved through one instance, header-hash key, the VNF in its own
    /// namespace behind the proxy (sidecar layout, Interfaces:Vnf): xdp_rx XDP_REDIRECTs every
    /// popped packet, NSH next protocol Ethernet included (the inner frame is addressed to the proxy
    /// ingress, whose MAC the VNF's veth carries), into the VNF's namespace; two IP hops (VNF,
    /// proxy). Every popped packet must have taken the redirect.</summary>
    [TestMethod]
    public void MixedMplsAndNsh_HeaderHashKey_SidecarVnf_RestoresEveryHeader() =>
        EndToEndScenario.Run(TestContext,
            new ScenarioOptions(KeyMode: "header-hash", UserVnf: false, IpHops: 2)
            {
                SidecarVnf = true,
                Encap = "mixed",
                Encapsulations = ["mpls", "nsh"],
                NshNextHopIsReceiver = true,
                PacketCount = 1600,
                GeneratorArgs = ["--nsh-expired", ExpiredShare],
            },
            o =>
            {
                Assert.IsGreaterThan(0, o.ReceiverInt("ok_mpls"), $"the mixed run delivered no MPLS packet.\n{o.Diagnostics}");
                AssertNshCounters(o);
                Assert.AreEqual<long?>(o.Counter("rx_popped") + o.Counter("rx_duplicate_key"), o.RedirectedToVnf,
                    $"every popped packet should be XDP_REDIRECTed into the VNF's veth (ethtool -S xdp_xmit).\n{o.Diagnostics}");
            });

    /// <summary>Every delivered NSH packet was popped once and restored once (a fresh daemon starts
    /// at 0; expired and VNF-dropped packets may or may not have been popped, hence lower bounds).</summary>
    private static void AssertNshCounters(ScenarioOutcome o)
    {
        var delivered = o.ReceiverInt("ok_nsh");
        Assert.IsGreaterThan(0, delivered, $"no NSH packet was delivered.\n{o.Diagnostics}");
        var popped = o.Counter("nsh_popped");
        var restored = o.Counter("nsh_restored");
        Assert.IsNotNull(popped, $"sfcproxy stats has no nsh_popped counter.\n{o.Diagnostics}");
        Assert.IsNotNull(restored, $"sfcproxy stats has no nsh_restored counter.\n{o.Diagnostics}");
        Assert.IsGreaterThanOrEqualTo(delivered, popped.Value,
            $"nsh_popped ({popped}) < NSH packets delivered ({delivered}).\n{o.Diagnostics}");
        Assert.IsGreaterThanOrEqualTo(delivered, restored.Value,
            $"nsh_restored ({restored}) < NSH packets delivered ({delivered}).\n{o.Diagnostics}");
    }
}
