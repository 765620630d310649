using SfcProxy.Configuration;
using SfcProxy.Proxy.Options;
using SfcProxy.Tests.Configuration;

namespace SfcProxy.Tests.Proxy.Options;

[TestClass]
public sealed class LabelEntryOptionsTests
{
    [TestMethod]
    public void StaticStackIsEncodedAsOnTheWireWithBottomOfStackOnTheLastEntry()
    {
        var stack = new List<LabelEntryOptions>
        {
            new() { Label = 16005, Ttl = 64, Tc = 0 },
            new() { Label = 1048575, Ttl = 255, Tc = 7 },
        };

        uint[] encoded = LabelEntryOptions.EncodeStack(stack);

        // 16005 = 0x03e85: label 0x03e85, tc 0, S 0, ttl 0x40.
        CollectionAssert.AreEqual(new byte[] { 0x03, 0xe8, 0x50, 0x40 }, BitConverter.GetBytes(encoded[0]));
        // label 0xfffff, tc 7, S 1, ttl 0xff.
        CollectionAssert.AreEqual(new byte[] { 0xff, 0xff, 0xff, 0xff }, BitConverter.GetBytes(encoded[1]));
    }
}
