using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using SfcProxy.Hosting;

namespace SfcProxy.Tests.Hosting;

/// <summary>Reload requests (SIGHUP) wait for the host to have started, and a burst of them is coalesced.</summary>
[TestClass]
public sealed class ReloadServiceTests
{
    private sealed class CountingHook : IReloadHook
    {
        public int Reloads;

        public void Reload() => Interlocked.Increment(ref Reloads);
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public readonly CancellationTokenSource Started = new();
        public CancellationToken ApplicationStarted => Started.Token;
        public CancellationToken ApplicationStopping => CancellationToken.None;
        public CancellationToken ApplicationStopped => CancellationToken.None;
        public void StopApplication() { }
    }

    [TestMethod]
    public async Task RequestsBeforeStartWaitForItAndABurstIsCoalesced()
    {
        var requests = ReloadRequests.Manual();
        var hook = new CountingHook();
        var lifetime = new Lifetime();
        using var service = new ReloadService(requests, [hook], lifetime, NullLogger<ReloadService>.Instance);
        await service.StartAsync(CancellationToken.None);

        for (var i = 0; i < 500; i++)
            requests.Request();
        await Task.Delay(200);
        Assert.AreEqual(0, hook.Reloads, "no reload before the host has started");

        lifetime.Started.Cancel();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (hook.Reloads == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        await Task.Delay(200);
        Assert.AreEqual(1, hook.Reloads, "500 requests before start make one reload");

        requests.Request();
        deadline = DateTime.UtcNow.AddSeconds(10);
        while (hook.Reloads == 1 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.AreEqual(2, hook.Reloads, "a request once running is a reload");
        await service.StopAsync(CancellationToken.None);
        Assert.AreEqual(500 + 1, requests.Received);
    }
}
