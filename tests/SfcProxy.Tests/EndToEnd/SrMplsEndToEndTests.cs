namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// End-to-end: real SR-MPLS frames from a sender namespace through the proxy namespace (sfcproxy
/// daemon + a VNF) to a receiver namespace, which checks every packet: arrived exactly once, label
/// stack = sent stack minus the consumed segment, new top TTL = popped top TTL - 1, inner IP intact
/// apart from the VNF's TTL decrements, payload intact. The run itself is <see cref="EndToEndScenario"/>.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class SrMplsEndToEndTests
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>Metadata key (XDP metadata -> skb->mark) with the in-kernel VNF: the proxy
    /// namespace forwards IP through an iptables FORWARD chain (one UDP port dropped).</summary>
    [TestMethod]
    public void MetadataKey_KernelVnf_RestoresEveryLabelStack() =>
        EndToEndScenario.Run(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1));

    /// <summary>Header-hash key with a user-mode VNF (tun_vnf.py on a TUN device): the packet
    /// crosses user space, so only fields the VNF leaves alone can find the cached stack. The
    /// kernel forwards twice (ingress -> TUN, TUN -> egress), hence two IP TTL decrements.</summary>
    [TestMethod]
    public void HeaderHashKey_UserModeTunVnf_RestoresEveryLabelStack() =>
        EndToEndScenario.Run(TestContext, new ScenarioOptions(KeyMode: "header-hash", UserVnf: true, IpHops: 2));

    /// <summary>Header-hash key with the VNF in its own namespace behind the proxy (sidecar layout,
    /// topology.sh --sidecar-vnf): xdp_rx XDP_REDIRECTs every popped packet through its devmap
    /// (Interfaces:Vnf) into a veth to the VNF's namespace, which forwards it through iptables over a
    /// second veth back into the proxy namespace, which routes it out of the egress (two IP TTL
    /// decrements: the VNF's and the proxy's). Every popped packet, the VNF's dropped flow included,
    /// must have crossed the redirect, not the host stack (policy routing would also reach the VNF).</summary>
    [TestMethod]
    public void HeaderHashKey_SidecarVnfInOwnNamespace_RestoresEveryLabelStack() =>
        EndToEndScenario.Run(TestContext, new ScenarioOptions(KeyMode: "header-hash", UserVnf: false, IpHops: 2) { SidecarVnf = true },
            o =>
            {
                var popped = o.Counter("rx_popped") + o.Counter("rx_duplicate_key");
                var sent = o.ReceiverInt("expected") + o.ReceiverInt("expected_dropped");
                Assert.AreEqual<long?>(sent, popped, $"xdp_rx should pop every packet sent.\n{o.Diagnostics}");
                Assert.AreEqual<long?>(popped, o.RedirectedToVnf,
                    $"every popped packet should be XDP_REDIRECTed into the VNF's veth (ethtool -S xdp_xmit).\n{o.Diagnostics}");
            });
}
