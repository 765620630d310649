using SfcProxy.Bpf;

namespace SfcProxy.Tests.Bpf;

[TestClass]
public sealed class BpfPinsTests
{
    [TestMethod]
    public void RemoveUnlinksEveryPin()
    {
        string root = TestObjects.UniquePinRoot();
        try
        {
            var pins = new BpfPins("proxy-a", root);
            Assert.AreEqual(Path.Combine(root, "proxy-a"), pins.Directory);
            using (BpfObject obj = BpfObject.Open(TestObjects.Probe, pins.Directory))
            {
                obj.Load();
            }
            Assert.IsTrue(File.Exists(pins.Path("probe_table")));

            pins.Remove();

            Assert.IsFalse(pins.Exists);
            pins.Remove(); // idempotent
        }
        finally
        {
            TestObjects.RemovePinRoot(root);
        }
    }

    [TestMethod]
    public void InstanceMustBeOneComponent()
    {
        Assert.ThrowsExactly<ArgumentException>(() => new BpfPins("a/b"));
        Assert.ThrowsExactly<ArgumentException>(() => new BpfPins(".."));
    }
}
