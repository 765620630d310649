using SfcProxy.Tests.Bpf;
using SfcProxy.Net;

namespace SfcProxy.Tests.Net;

[TestClass]
public sealed class NetDeviceTests
{
    [TestMethod]
    public void GroRoundTripOnVeth()
    {
        using TestNetwork network = TestNetwork.Create();
        network.Run(() =>
        {
            bool original = NetDevice.GetGro(TestNetwork.Veth0);

            NetDevice.SetGro(TestNetwork.Veth0, !original);
            Assert.AreEqual(!original, NetDevice.GetGro(TestNetwork.Veth0));
            NetDevice.SetGro(TestNetwork.Veth0, original);
            Assert.AreEqual(original, NetDevice.GetGro(TestNetwork.Veth0));
        });
    }

    [TestMethod]
    public void LroIsFixedOffOnVeth()
    {
        using TestNetwork network = TestNetwork.Create();
        network.Run(() =>
        {
            Assert.IsFalse(NetDevice.GetLro(TestNetwork.Veth0));
            Assert.IsTrue(NetDevice.SetLro(TestNetwork.Veth0, false), "turning LRO off where it is off must succeed");
            Assert.IsFalse(NetDevice.SetLro(TestNetwork.Veth0, true), "veth cannot do LRO");
        });
    }

    [TestMethod]
    public void MissingInterfaceIsNamed()
    {
        NetDeviceException e = Assert.ThrowsExactly<NetDeviceException>(() => NetDevice.IfIndex("sfct-missing0"));
        StringAssert.Contains(e.Message, "sfct-missing0");

        NetDeviceException gro = Assert.ThrowsExactly<NetDeviceException>(() => NetDevice.GetGro("sfct-missing0"));
        StringAssert.Contains(gro.Message, "sfct-missing0");
    }
}
