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

        // A storm while running: at most one reload per spacing, the last request never lost.
        var storm = System.Diagnostics.Stopwatch.StartNew();
        var sent = 0;
        while (storm.Elapsed < TimeSpan.FromSeconds(1))
        {
            requests.Request();
            sent++;
            await Task.Delay(1);
        }
        await Task.Delay(ReloadService.Spacing * 5);
        var during = hook.Reloads - 1;
        Assert.IsGreaterThanOrEqualTo(2, during, "requests while running are reloads");
        Assert.IsLessThanOrEqualTo((int)(storm.Elapsed / ReloadService.Spacing) + 2, during, $"{sent} requests in 1 s were not coalesced");
        Assert.IsFalse(requests.TryTake(), "the last request of the storm was applied, not left pending");
        await service.StopAsync(CancellationToken.None);
        Assert.AreEqual(500 + sent, requests.Received);
    }
}
