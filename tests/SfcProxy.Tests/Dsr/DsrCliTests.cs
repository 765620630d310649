using SfcProxy.Tests.Metrics;
using System.Text.Json;
using SfcProxy.Cli;
using SfcProxy.Dsr;
using SfcProxy.Tests.Cli;

namespace SfcProxy.Tests.Dsr;

/// <summary>`sfcproxy dsr` against a control server with the fake DSR datapath.</summary>
[TestClass]
public sealed class DsrCliTests
{
    [TestMethod]
    public async Task LsShowsServicesBackendsAndCounters()
    {
        await using var daemon = await DsrControlTests.Daemon.StartAsync();
        var table = new CliRunner();
        var json = new CliRunner();

        int tableExit = await table.InvokeAsync(["dsr", "ls", "-s", daemon.Server.SocketPath]);
        int jsonExit = await json.InvokeAsync(["dsr", "ls", "-s", daemon.Server.SocketPath, "--json"]);

        Assert.AreEqual(ExitCodes.Ok, tableExit, table.Error.ToString());
        string text = table.Output.ToString();
        Assert.Contains("203.0.113.10:80/tcp", text);
        Assert.Contains("203.0.113.10:53/udp", text);
        Assert.Contains("10.0.0.2", text);
        Assert.Contains("active", text);
        Assert.Contains("conn-hit", text);
        Assert.AreEqual(ExitCodes.Ok, jsonExit, json.Error.ToString());
        using var answer = JsonDocument.Parse(json.Output.ToString());
        Assert.AreEqual(2, answer.RootElement.GetProperty("dsr").GetProperty("services").GetArrayLength());
        Assert.Contains("bytes", text);
        Assert.AreEqual(("512 B", "98.6 KiB", "1.0 GiB"), (DsrCommand.Bytes(512), DsrCommand.Bytes(101_000), DsrCommand.Bytes(1UL << 30)));
        foreach (var service in answer.RootElement.GetProperty("dsr").GetProperty("services").EnumerateArray())
        {
            Assert.Contains(DsrCommand.Bytes(service.GetProperty("bytes").GetUInt64()), text, "the service's bytes in the table");
            foreach (var backend in service.GetProperty("backends").EnumerateArray())
                Assert.Contains(DsrCommand.Bytes(backend.GetProperty("bytes").GetUInt64()), text, "each backend's bytes in the table");
        }
    }

    [TestMethod]
    public async Task BackendWeightAddAndRemoveChangeTheDaemon()
    {
        await using var daemon = await DsrControlTests.Daemon.StartAsync();
        string socket = daemon.Server.SocketPath;
        var weight = new CliRunner();
        var add = new CliRunner();
        var remove = new CliRunner();

        int weightExit = await weight.InvokeAsync(["dsr", "backend", "weight", "-s", socket, "--vip", "203.0.113.10", "--port", "80", "--address", "10.0.0.1", "--weight", "0"]);
        int addExit = await add.InvokeAsync(["dsr", "backend", "add", "-s", socket, "--vip", "203.0.113.10", "--port", "53", "--protocol", "udp", "--address", "10.0.0.5"]);
        int removeExit = await remove.InvokeAsync(["dsr", "backend", "remove", "-s", socket, "--vip", "203.0.113.10", "--port", "53", "--protocol", "udp", "--address", "10.0.0.3"]);

        Assert.AreEqual(ExitCodes.Ok, weightExit, weight.Error.ToString());
        Assert.Contains("weight: applied", weight.Output.ToString());
        Assert.Contains("draining", weight.Output.ToString());
        Assert.AreEqual(ExitCodes.Ok, addExit, add.Error.ToString());
        Assert.AreEqual(ExitCodes.Ok, removeExit, remove.Error.ToString());
        Assert.AreEqual(0u, daemon.Dsr.Services[0].Backends[0].Weight);
        var dns = daemon.Dsr.Services.Single(s => s.Port == 53).Backends.Single();
        Assert.AreEqual(("10.0.0.5", 1u), (dns.Address.ToString(), dns.Weight));
        Assert.HasCount(4, daemon.Datapath.Applied);
    }

    [TestMethod]
    public async Task RemovedBackendShowsAsRemovingWithItsFlowsUntilPurged()
    {
        await using var daemon = await DsrControlTests.Daemon.StartAsync();
        string socket = daemon.Server.SocketPath;
        var id = daemon.Dsr.Tables!.Backends.Single(b => b.Address.ToString() == "10.0.0.3").BackendId;
        daemon.Datapath.Connections[id] = 3;
        var remove = new CliRunner();
        var ls = new CliRunner();
        var lsAfter = new CliRunner();

        int removeExit = await remove.InvokeAsync(["dsr", "backend", "remove", "-s", socket, "--vip", "203.0.113.10", "--port", "53", "--protocol", "udp", "--address", "10.0.0.3"]);
        daemon.Datapath.Connections[id] = 1;
        int lsExit = await ls.InvokeAsync(["dsr", "ls", "-s", socket]);
        daemon.Datapath.Connections.Remove(id);
        daemon.Dsr.Sweep();
        int lsAfterExit = await lsAfter.InvokeAsync(["dsr", "ls", "-s", socket]);

        Assert.AreEqual((ExitCodes.Ok, ExitCodes.Ok, ExitCodes.Ok), (removeExit, lsExit, lsAfterExit), remove.Error.ToString() + ls.Error + lsAfter.Error);
        Assert.Contains("removing (3 flows)", remove.Output.ToString());
        Assert.Contains("removing (1 flow)", ls.Output.ToString());
        Assert.DoesNotContain("removing", lsAfter.Output.ToString(), "purged");
        Assert.Contains("│ 0* │ removing (3 flows) │", System.Text.RegularExpressions.Regex.Replace(remove.Output.ToString(), " +", " "), "a live change's weight is starred");
        // Purged, it is still out of the service the config lists it in: a live change, listed with how to keep it.
        Assert.Contains("* live changes, not in the config file", lsAfter.Output.ToString());
        Assert.Contains("203.0.113.10:53/udp 10.0.0.3: removed (config: weight 1) since", lsAfter.Output.ToString());
    }

    /// <summary>`dsr config` prints the table in force as Dsr:Services; a config file saying that (bound
    /// and validated like any file) makes every live change permanent: none is left after the reload,
    /// and the table is the same.</summary>
    [TestMethod]
    public async Task ConfigPrintsTheLiveTableAsServicesThatMakeEveryLiveChangePermanent()
    {
        await using var daemon = await DsrControlTests.Daemon.StartAsync();
        string socket = daemon.Server.SocketPath;
        Assert.AreEqual(ExitCodes.Ok, await new CliRunner().InvokeAsync(["dsr", "backend", "weight", "-s", socket, "--vip", "203.0.113.10", "--port", "80", "--address", "10.0.0.1", "--weight", "0"]));
        Assert.AreEqual(ExitCodes.Ok, await new CliRunner().InvokeAsync(["dsr", "backend", "add", "-s", socket, "--vip", "203.0.113.10", "--port", "53", "--protocol", "udp", "--address", "10.0.0.5", "--weight", "3"]));
        Assert.AreEqual(ExitCodes.Ok, await new CliRunner().InvokeAsync(["dsr", "backend", "remove", "-s", socket, "--vip", "203.0.113.10", "--port", "80", "--address", "10.0.0.2"]));
        Assert.HasCount(3, daemon.Dsr.LiveChanges);
        var before = string.Join("; ", daemon.Dsr.Services.Select(s => $"{s.Port}: {string.Join(", ", s.Backends)}"));
        var config = new CliRunner();

        Assert.AreEqual(ExitCodes.Ok, await config.InvokeAsync(["dsr", "config", "-s", socket]), config.Error.ToString());

        var services = config.Output.ToString().Trim()[1..^1];
        var options = Configuration.OptionsFixture.Bind("{ \"Dsr\": { \"Interface\": \"lo\", \"Source\": \"192.0.2.1\", " + services + " } }");
        Assert.IsEmpty(Configuration.OptionsFixture.Failures(options), config.Output.ToString());
        var (replaced, error) = daemon.Dsr.Reconfigure(options.Dsr.ToServiceConfigs());
        Assert.IsNull(error);
        Assert.HasCount(3, replaced, "each live change now said by the file");
        Assert.IsEmpty(daemon.Dsr.LiveChanges);
        Assert.AreEqual(before, string.Join("; ", daemon.Dsr.Services.Select(s => $"{s.Port}: {string.Join(", ", s.Backends)}")));
    }

    [TestMethod]
    public async Task MetricsPrintTheDsrFamilies()
    {
        await using var daemon = await DsrControlTests.Daemon.StartAsync();
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["metrics", "-s", daemon.Server.SocketPath]);

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        string text = cli.Output.ToString();
        // label order is the exposition library's, so samples are compared parsed
        var samples = PrometheusExposition.Parse(text).Values.SelectMany(f => f.Samples).ToList();
        Assert.Contains(PrometheusExposition.ParseSample("sfcproxy_dsr_packets_total{instance=\"test\",outcome=\"tx\"} 7").Canonical,
            samples.Select(x => x.Canonical).ToHashSet(), text);
        Assert.IsTrue(samples.Any(x => x.Name == "sfcproxy_dsr_backend_packets_total" && x.Labels.GetValueOrDefault("backend") == "10.0.0.1"), text);
    }

    [TestMethod]
    public async Task RefusedChangeExitsWithTheDaemonsError()
    {
        await using var daemon = await DsrControlTests.Daemon.StartAsync();
        var cli = new CliRunner();
        var missing = new CliRunner();

        int exit = await cli.InvokeAsync(["dsr", "backend", "remove", "-s", daemon.Server.SocketPath, "--vip", "203.0.113.10", "--port", "80", "--address", "10.9.9.9"]);
        int missingExit = await missing.InvokeAsync(["dsr", "backend", "weight", "-s", daemon.Server.SocketPath, "--vip", "203.0.113.10", "--port", "80", "--address", "10.0.0.1"]);

        Assert.AreEqual(ExitCodes.Failed, exit);
        Assert.Contains("backend 10.9.9.9 is not in service 203.0.113.10:80/tcp", cli.Error.ToString());
        Assert.AreNotEqual(ExitCodes.Ok, missingExit, "--weight is required for weight");
        Assert.HasCount(1, daemon.Datapath.Applied);
    }
}
