using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Control;
using SfcProxy.Dsr;
using SfcProxy.Hosting;
using SfcProxy.Metrics;
using SfcProxy.Policy;
using SfcProxy.Proxy;
using SfcProxy.Tests.Dsr;
using SfcProxy.Tests.Policy;

namespace SfcProxy.Tests.Control;

/// <summary>The table the modules fill: every request has one module, and a name nobody claims is answered as such.</summary>
[TestClass]
public sealed class ControlRequestTableTests
{
    private static readonly ILogger<ControlServer> Logger = NullLogger<ControlServer>.Instance;

    /// <summary>Each module's handler, as an instance that runs them all registers them.</summary>
    private static IControlModule[] AllModules()
    {
        var options = Options.Create(new SfcProxyOptions { Instance = "test" });
        return
        [
            new CoreControl(options, new LogLevelSwitch(), new InstanceMetrics(options, []), Logger),
            new ProxyControl(options, new FakeDatapath(), Logger),
            new PolicyControl(new ActivePolicy(new FakePolicyDatapath(), [], NullLogger<ActivePolicy>.Instance), Logger),
            new DsrControl(new ActiveDsr(new FakeDsrDatapath(), [], NullLogger<ActiveDsr>.Instance), Logger),
        ];
    }

    [TestMethod]
    public void EveryRequestOfTheProtocolIsClaimedByExactlyOneModule()
    {
        var claims = AllModules().SelectMany(m => m.Requests.Select(r => (r.Name, Module: m.GetType().Name))).ToList();

        foreach (string request in ControlProtocol.Requests)
            Assert.HasCount(1, claims.Where(c => c.Name == request).ToList(), $"{request}: claimed by {string.Join(", ", claims.Where(c => c.Name == request).Select(c => c.Module))}");
        CollectionAssert.AreEquivalent(ControlProtocol.Requests, claims.Select(c => c.Name).ToArray(), "no module claims a name the protocol does not have");
        CollectionAssert.AreEquivalent(ControlProtocol.Requests, ControlProtocol.Modules.SelectMany(m => m.Requests).ToArray(),
            "the protocol's module contracts name every request once");
    }

    [TestMethod]
    public void EachModuleAnswersTheRequestsItsContractNames()
    {
        foreach (var module in AllModules())
        {
            var names = module.Requests.Select(r => r.Name).ToArray();
            var contract = ControlProtocol.ModuleOf(names[0])!;
            CollectionAssert.AreEquivalent(contract.Requests, names, module.GetType().Name);
        }
    }

    [TestMethod]
    public void OnlyRequestsThatChangeTheInstanceNeedRoot()
    {
        var rooted = AllModules().SelectMany(m => m.Requests).Where(r => r.NeedsRoot).Select(r => r.Name).ToArray();

        CollectionAssert.AreEquivalent(
            new[] { ControlProtocol.Flush, ControlProtocol.LogLevel, ControlProtocol.PolicyApply, ControlProtocol.DsrBackend }, rooted);
        // The table refuses these to a non-root peer even when their module is not configured.
        CollectionAssert.AreEquivalent(rooted, ControlProtocol.RootOnly);
    }

    [TestMethod]
    public void ARequestClaimedTwiceIsRefusedAtStart()
    {
        var options = Options.Create(new SfcProxyOptions());
        IControlModule[] modules = [new CoreControl(options, new LogLevelSwitch(), new InstanceMetrics(options, []), Logger), new CoreControl(options, new LogLevelSwitch(), new InstanceMetrics(options, []), Logger)];

        var e = Assert.ThrowsExactly<InvalidOperationException>(() => new ControlRequestTable(modules, "test", TimeProvider.System, Logger));

        Assert.Contains("'status' is claimed by both CoreControl and CoreControl", e.Message);
    }

    [TestMethod]
    public void ANameTheProtocolDoesNotHaveCannotBeClaimed()
    {
        var e = Assert.ThrowsExactly<InvalidOperationException>(
            () => new ControlRequestTable([new Rogue()], "test", TimeProvider.System, Logger));

        Assert.Contains("Rogue claims request 'reboot'", e.Message);
    }

    [TestMethod]
    public async Task AnUnknownRequestIsAnsweredAsUnknownAndLeavesTheLogLevelAlone()
    {
        await using var fixture = await ControlServerFixture.StartAsync();

        string answer = await fixture.AskAsync("""{"request":"reboot","level":"Debug"}""");

        Assert.AreEqual("""{"ok":false,"error":"unknown request \u0027reboot\u0027 (accepted: stats, cache, cache-dump, status, metrics, histograms, flush, log-level, policy-status, policy-apply, policy-check, dsr-status, dsr-backend)"}""", answer);
        Assert.AreEqual(LogLevel.Information, fixture.LogLevel.Minimum);
    }

    [TestMethod]
    public async Task WithoutTheSfcProxyItsRequestsSaySo()
    {
        await using var fixture = await ControlServerFixture.StartAsync();
        // A DSR-only instance: the core without the SFC proxy's handler.
        var options = Options.Create(new SfcProxyOptions { Instance = "dsr-only", Socket = { Path = Path.Combine(fixture.Directory, "dsr.sock") } });
        var server = new ControlServer(options, [new CoreControl(options, new LogLevelSwitch(), new InstanceMetrics(options, []), Logger)], TimeProvider.System, Logger);
        await server.StartAsync(CancellationToken.None);
        try
        {
            using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, 0);
            await socket.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(options.Value.SocketPath));
            using var connection = new LineConnection(socket);

            string stats = await connection.AskAsync("""{"request":"stats"}""");
            string metrics = await connection.AskAsync("""{"request":"metrics"}""");
            string status = await connection.AskAsync("""{"request":"status"}""");

            // status says what the instance is, and nothing of a proxy it does not run.
            StringAssert.StartsWith(status, """{"ok":true,"status":{"instance":"dsr-only","pid":""");
            foreach (var field in new[] { "keyMode", "encapsulations", "interfaces", "missPolicy", "xdpMode", "consumedSegments" })
                Assert.DoesNotContain($"\"{field}\"", status, status);
            Assert.AreEqual("""{"ok":false,"error":"stats: the SFC proxy is not enabled on this instance (SfcProxy:Interfaces is not set)"}""", stats);
            StringAssert.StartsWith(metrics, """{"ok":true,"metrics":"# HELP sfcproxy_uptime_seconds """);
        }
        finally
        {
            await server.StopAsync(CancellationToken.None);
            server.Dispose();
        }
    }

    private sealed class Rogue : IControlModule
    {
        public IReadOnlyList<ControlRequestRule> Requests { get; } = [new("reboot", NeedsRoot: true)];
        public Task AnswerAsync(ControlCall call, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
