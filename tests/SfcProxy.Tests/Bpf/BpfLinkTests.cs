using SfcProxy.Bpf;
using SfcProxy.Net;
using SfcProxy.Bench;

namespace SfcProxy.Tests.Bpf;

/// <summary>Attaches to a veth pair in a throw-away network namespace.</summary>
[TestClass]
public sealed class BpfLinkTests
{
    // iproute2 prints the mode among the link flags: "mtu 1500 xdp qdisc ..." or "... xdpgeneric ...".
    [TestMethod]
    [DataRow(XdpAttachMode.Native, " xdp ")]
    [DataRow(XdpAttachMode.Generic, " xdpgeneric ")]
    public void AttachXdpAndDetachOnDispose(XdpAttachMode mode, string ipLinkShows)
    {
        using TestNetwork network = TestNetwork.Create();
        using BpfObject obj = BpfObject.Open(TestObjects.EmptyXdp, pinRoot: null);
        obj.Load();

        network.Run(() =>
        {
            using (BpfLink link = obj.Program(BenchBpfNames.EmptyXdp.Program).AttachXdp(NetDevice.IfIndex(TestNetwork.Veth0), mode))
            {
                StringAssert.Contains(link.Description, "veth0");
                StringAssert.Contains(network.IpIn($"link show dev {TestNetwork.Veth0}"), ipLinkShows,
                    $"ip link does not show the {mode} XDP program");
            }
            Assert.IsFalse(network.IpIn($"link show dev {TestNetwork.Veth0}").Contains("prog/xdp"), "XDP program still attached after Dispose");
        });
    }

    [TestMethod]
    public void SecondXdpLinkOnSameInterfaceIsRefused()
    {
        using TestNetwork network = TestNetwork.Create();
        using BpfObject obj = BpfObject.Open(TestObjects.EmptyXdp, pinRoot: null);
        obj.Load();

        network.Run(() =>
        {
            int ifindex = NetDevice.IfIndex(TestNetwork.Veth0);
            using BpfLink first = obj.Program(BenchBpfNames.EmptyXdp.Program).AttachXdp(ifindex, XdpAttachMode.Native);

            BpfException e = Assert.ThrowsExactly<BpfException>(() => obj.Program(BenchBpfNames.EmptyXdp.Program).AttachXdp(ifindex, XdpAttachMode.Native));

            StringAssert.Contains(e.Message, "bpf_link_create(empty_xdp.bpf.o/empty_xdp -> xdp native on veth0");
            Assert.AreEqual(16, e.Errno, e.Message); // EBUSY
        });
    }

    [TestMethod]
    [DataRow(TcDirection.Ingress)]
    [DataRow(TcDirection.Egress)]
    public void AttachTcxBothDirections(TcDirection direction)
    {
        using TestNetwork network = TestNetwork.Create();
        using BpfObject obj = BpfObject.Open(TestObjects.EmptyTc, pinRoot: null);
        obj.Load();

        network.Run(() =>
        {
            using BpfLink link = obj.Program(BenchBpfNames.EmptyTc.Program).AttachTc(NetDevice.IfIndex(TestNetwork.Veth1), direction);

            // tcx needs no qdisc; a clsact one would mean we fell back on a kernel that has tcx.
            Assert.IsFalse(network.TcIn($"qdisc show dev {TestNetwork.Veth1}").Contains("clsact"), "fell back to clsact although the kernel has tcx");
            StringAssert.Contains(link.Description, "tc " + direction.ToString().ToLowerInvariant());
        });
    }

    [TestMethod]
    public void XdpLinkPinReopenUpdateAndUnpin()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        using TestNetwork network = TestNetwork.Create();
        try
        {
            var pins = new BpfPins("link-test", pinRoot);
            pins.Create();
            string pinPath = pins.Path("xdp_veth0");
            using BpfObject empty = BpfObject.Open(TestObjects.EmptyXdp, pinRoot: null);
            empty.Load();
            using BpfObject probe = BpfObject.Open(TestObjects.Probe, pins.Directory);
            probe.Load();

            network.Run(() =>
            {
                using (BpfLink link = empty.Program(BenchBpfNames.EmptyXdp.Program).AttachXdp(NetDevice.IfIndex(TestNetwork.Veth0), XdpAttachMode.Native))
                {
                    link.Pin(pinPath);
                    Assert.AreEqual(pinPath, link.PinPath);
                }
                Assert.IsTrue(network.IpIn($"link show dev {TestNetwork.Veth0}").Contains("prog/xdp"), "pinned link detached on Dispose");

                using (BpfLink reopened = BpfLink.OpenPinned(pinPath))
                {
                    reopened.Update(probe.Program("probe_count"));
                }
                // The pin, not our fd, kept the link: it is still there, now running probe_count.
                string shown = network.IpIn($"-d link show dev {TestNetwork.Veth0}");
                StringAssert.Contains(shown, "probe_count");

                using (BpfLink reopened = BpfLink.OpenPinned(pinPath))
                {
                    reopened.Unpin();
                    Assert.IsNull(reopened.PinPath);
                }
                Assert.IsFalse(File.Exists(pinPath));
                Assert.IsFalse(network.IpIn($"link show dev {TestNetwork.Veth0}").Contains("prog/xdp"), "unpinned link still attached after Dispose");
            });

            pins.Remove();
            Assert.IsFalse(pins.Exists);
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void TcxLinkPinAndReopen()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        using TestNetwork network = TestNetwork.Create();
        try
        {
            Directory.CreateDirectory(pinRoot);
            string pinPath = Path.Combine(pinRoot, "tcx_ingress_veth1");
            using BpfObject obj = BpfObject.Open(TestObjects.EmptyTc, pinRoot: null);
            obj.Load();

            network.Run(() =>
            {
                using (BpfLink link = obj.Program(BenchBpfNames.EmptyTc.Program).AttachTc(NetDevice.IfIndex(TestNetwork.Veth1), TcDirection.Ingress))
                {
                    link.Pin(pinPath);
                }
                using BpfLink reopened = BpfLink.OpenPinned(pinPath);
                reopened.Update(obj.Program(BenchBpfNames.EmptyTc.Program));
                reopened.Unpin();
            });
            Assert.IsFalse(File.Exists(pinPath));
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void ClsactFallbackRemovesOnlyWhatItCreated()
    {
        using TestNetwork network = TestNetwork.Create();
        using BpfObject obj = BpfObject.Open(TestObjects.EmptyTc, pinRoot: null);
        obj.Load();
        BpfProgram program = obj.Program(BenchBpfNames.EmptyTc.Program);

        network.Run(() =>
        {
            // No qdisc before: the first filter creates clsact, the last one removes it.
            int veth0 = NetDevice.IfIndex(TestNetwork.Veth0);
            using (BpfLink ingress = program.AttachClsact(veth0, TcDirection.Ingress))
            using (BpfLink egress = program.AttachClsact(veth0, TcDirection.Egress))
            {
                StringAssert.Contains(network.TcIn($"filter show dev {TestNetwork.Veth0} ingress"), BenchBpfNames.EmptyTc.Program);
                StringAssert.Contains(network.TcIn($"filter show dev {TestNetwork.Veth0} egress"), BenchBpfNames.EmptyTc.Program);
                ingress.Update(program);
                Assert.ThrowsExactly<NotSupportedException>(() => egress.Pin("/sys/fs/bpf/never"));
            }
            Assert.IsFalse(network.TcIn($"qdisc show dev {TestNetwork.Veth0}").Contains("clsact"), "our clsact qdisc was left behind");

            // A qdisc someone else made stays, without our filter.
            network.TcIn($"qdisc add dev {TestNetwork.Veth1} clsact");
            using (BpfLink ingress = program.AttachClsact(NetDevice.IfIndex(TestNetwork.Veth1), TcDirection.Ingress))
            {
                StringAssert.Contains(network.TcIn($"filter show dev {TestNetwork.Veth1} ingress"), BenchBpfNames.EmptyTc.Program);
            }
            StringAssert.Contains(network.TcIn($"qdisc show dev {TestNetwork.Veth1}"), "clsact");
            Assert.IsFalse(network.TcIn($"filter show dev {TestNetwork.Veth1} ingress").Contains(BenchBpfNames.EmptyTc.Program), "our filter was left behind");
        });
    }
}
