using SfcProxy.Control;

namespace SfcProxy.Tests.Control;

[TestClass]
public sealed class ControlClientTests
{
    [TestMethod]
    public async Task MissingSocketSaysWhichInstanceIsNotRunning()
    {
        string path = $"/tmp/sfcproxy-test-{Guid.NewGuid():N}.sock";

        var e = await Assert.ThrowsExactlyAsync<ControlClientException>(() => ControlClient.RequestAsync(path, "stats", "x"));

        Assert.AreEqual($"no SfcProxy instance 'x' running: {path} not found", e.Message);
    }

    [TestMethod]
    public async Task AsksARunningInstance()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        string answer = await ControlClient.RequestAsync(fixture.SocketPath, "cache", instance: null);

        StringAssert.StartsWith(answer, """{"ok":true,"cache":""");
    }
}
