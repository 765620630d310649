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
}
