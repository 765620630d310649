using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Proxy;
using SfcProxy.Tests.Control;

namespace SfcProxy.Tests.Proxy;

[TestClass]
public sealed class ProxyServiceTests
{
    private static ProxyService Create(FakeDatapath datapath) =>
        new(datapath, Microsoft.Extensions.Options.Options.Create(new SfcProxyOptions()), NullLogger<ProxyService>.Instance);

    [TestMethod]
    public async Task AttachesOnStartAndDetachesOnceOnStopAndDispose()
    {
        var datapath = new FakeDatapath();
        var service = Create(datapath);

        await service.StartAsync(CancellationToken.None);
        Assert.AreEqual(1, datapath.Starts);
        await service.StopAsync(CancellationToken.None);
        service.Dispose();

        Assert.AreEqual(1, datapath.Stops);
    }

    [TestMethod]
    public async Task DisposeWithoutStopStillDetaches()
    {
        var datapath = new FakeDatapath();
        var service = Create(datapath);

        await service.StartAsync(CancellationToken.None);
        service.Dispose();

        Assert.AreEqual(1, datapath.Stops);
    }

    [TestMethod]
    public async Task StartFailurePropagatesAndNothingIsDetachedLater()
    {
        var datapath = new FakeDatapath { StartFailure = new InvalidOperationException("no XDP on eth0") };
        var service = Create(datapath);

        var e = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => service.StartAsync(CancellationToken.None));
        await service.StopAsync(CancellationToken.None);
        service.Dispose();

        Assert.AreEqual("no XDP on eth0", e.Message);
        Assert.AreEqual(0, datapath.Stops);
    }

    /// <summary>The host never finished starting (a later service failed): the datapath puts back
    /// what it found instead of stopping as configured.</summary>
    [TestMethod]
    public async Task AStartTheHostDidNotFinishIsRolledBackNotStopped()
    {
        var datapath = new FakeDatapath();
        using var started = new CancellationTokenSource();
        var service = new ProxyService(datapath, Microsoft.Extensions.Options.Options.Create(new SfcProxyOptions()), NullLogger<ProxyService>.Instance,
            new StartedLifetime(started.Token));

        await service.StartAsync(CancellationToken.None);
        service.Dispose();

        Assert.AreEqual(1, datapath.RollBacks);
        Assert.AreEqual(0, datapath.Commits);
        Assert.AreEqual(0, datapath.Stops);
    }

    [TestMethod]
    public async Task AStartIsKeptWhenTheHostHasStarted()
    {
        var datapath = new FakeDatapath();
        using var started = new CancellationTokenSource();
        var service = new ProxyService(datapath, Microsoft.Extensions.Options.Options.Create(new SfcProxyOptions()), NullLogger<ProxyService>.Instance,
            new StartedLifetime(started.Token));

        await service.StartAsync(CancellationToken.None);
        started.Cancel();
        await service.StopAsync(CancellationToken.None);
        service.Dispose();

        Assert.AreEqual(1, datapath.Commits);
        Assert.AreEqual(0, datapath.RollBacks);
        Assert.AreEqual(1, datapath.Stops);
    }

    private sealed class StartedLifetime(CancellationToken started) : Microsoft.Extensions.Hosting.IHostApplicationLifetime
    {
        public CancellationToken ApplicationStarted => started;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() { }
    }
}
