using Microsoft.Extensions.Configuration;
using SfcProxy.Composition;
using SfcProxy.Configuration;

namespace SfcProxy.Tests.Configuration;

[TestClass]
public sealed class SampleConfigTests
{
    private static readonly string SamplePath = Path.Combine(AppContext.BaseDirectory, "sfcproxy.sample.json");

    [TestMethod]
    public void SampleHasCommentsAndTheJsonProviderAcceptsThem()
    {
        Assert.IsTrue(File.Exists(SamplePath), $"{SamplePath} not copied to the output");
        Assert.Contains("// ", File.ReadAllText(SamplePath));

        var configuration = new ConfigurationBuilder().AddJsonFile(SamplePath).Build();

        Assert.AreEqual("header-hash", configuration["SfcProxy:KeyMode"]);
    }

    [TestMethod]
    public void SampleValidatesWithItsInterfacesReplacedByLoopback()
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(SamplePath)
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["SfcProxy:Interfaces:Ingress"] = "lo",
                ["SfcProxy:Interfaces:Egress"] = "lo",
            })
            .Build();
        var options = Modules.NewOptions();

        SfcProxyOptionsBinder.Bind(configuration.GetSection(SfcProxyOptions.SectionName), options);
        var result = new SfcProxyOptionsValidator().Validate(null, options);

        Assert.IsTrue(result.Succeeded, result.FailureMessage);
        Assert.AreEqual("/run/sfcproxy/default.sock", options.SocketPath);
    }
}
