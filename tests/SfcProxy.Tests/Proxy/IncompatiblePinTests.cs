using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy;

/// <summary>
/// A daemon taking over an instance reuses its pinned maps. A metadata cache pinned by an older
/// build (a hash map of 344-byte entries) or with another size cannot be reused: the load must fail
/// and say how to get out of it, not run on a map of the wrong shape.
/// </summary>
[TestClass]
public sealed class IncompatiblePinTests
{
    [TestMethod]
    [DataRow(BpfMapType.Hash, 344u, 4096u, DisplayName = "hash of the build before the slot array")]
    [DataRow(BpfMapType.Array, 352u, 1024u, DisplayName = "array of another cache size")]
    public void AnIncompatiblePinnedMetadataCacheIsRefusedWithTheWayOut(uint type, uint valueSize, uint entries)
    {
        BpfEnvironmentCheck.Require();
        var pins = new BpfPins($"pin-{Guid.NewGuid():N}"[..16]);
        try
        {
            pins.Create();
            using (var old = BpfMap.Create(type, 4, valueSize, entries, 0, SfcBpfNames.Maps.MetaCache))
                old.Pin(pins.Path(SfcBpfNames.Maps.MetaCache));
            var e = Assert.ThrowsExactly<BpfException>(() => ProxyObjects.Load(pins, KeyMode.Metadata, 4096).Dispose());
            StringAssert.Contains(e.Message, $"sfcproxy detach --instance {pins.Instance}");
        }
        finally
        {
            pins.Remove();
        }
    }
}
