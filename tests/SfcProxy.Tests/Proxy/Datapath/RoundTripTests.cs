using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// xdp_rx -> kernel VNF -> tc_tx through BPF_PROG_TEST_RUN: the frame that leaves must be the one
/// that arrived, with the VNF's Ethernet addresses and IP TTL, minus the consumed label, with the
/// new top label's TTL one less than the popped top's.
/// </summary>
[TestClass]
public sealed class RoundTripTests
{
    public static IEnumerable<object[]> Cases()
    {
        foreach (var mode in new[] { KeyMode.Metadata, KeyMode.HeaderHash })
        {
            foreach (var n in new[] { 1, 2, 10, SfcLimits.MaxLabels })
                foreach (var inner in Inner.All)
                    yield return [mode, n, inner.Name, L2.Plain.Name];
            yield return [mode, 3, Inner.V4Udp.Name, L2.Dot1Q.Name];
            yield return [mode, 16, Inner.V6Tcp.Name, L2.QinQ.Name];
        }
    }

    private static readonly L2[] Framings = [L2.Plain, L2.Dot1Q, L2.QinQ];

    [TestMethod]
    [DynamicData(nameof(Cases))]
    public void RestoresTheStackMinusTheConsumedLabel(KeyMode mode, int labels, string innerName, string l2Name)
    {
        var inner = Inner.All.Single(i => i.Name == innerName);
        var l2 = Framings.Single(f => f.Name == l2Name);
        var stack = Stacks.Make(labels, topTtl: 64);
        using var proxy = new ProxyUnderTest(mode);

        var rx = proxy.Rx(inner.On(Stacks.Push(l2.Eth(), stack), 64).Build());
        Assert.AreEqual(ProxyTestRuns.XdpPass, rx.Verdict, "xdp_rx verdict");
        var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);

        var expected = inner.On(Stacks.Push(l2.Eth(KernelVnf.NextHopMac, KernelVnf.EgressMac), Stacks.AfterVnf(stack, 1)), 63).Build();
        Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, "tc_tx verdict");
        CollectionAssert.AreEqual(expected, tx.Frame, "restored frame");
        Assert.AreEqual(0, proxy.CacheEntries, "the entry is deleted once restored");
        Assert.AreEqual(0u, tx.Mark & SfcLimits.DefaultMarkMask, "the key mark is cleared before the packet leaves");

        var moved = proxy.Moved();
        Assert.AreEqual(1ul, moved.GetValueOrDefault(Counter.RxPopped), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, moved.GetValueOrDefault(labels == 1 ? Counter.TxRestoredLast : Counter.TxRestored), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual(1ul, XdpRxFixtureTests.OutcomeSum(moved, "Tx"), XdpRxFixtureTests.Format(moved));
        Assert.AreEqual((ulong)labels, moved.GetValueOrDefault(Counter.LabelsPopped));
        Assert.AreEqual((ulong)labels - 1, moved.GetValueOrDefault(Counter.LabelsPushed));
    }
}
