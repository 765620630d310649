using System.Text.Json;
using SfcProxy.Cli;
using SfcProxy.Tests.Control;

namespace SfcProxy.Tests.Cli;

[TestClass]
public sealed class SfcProxyCliTests
{
    private string _directory = null!;

    [TestInitialize]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), $"sfcproxy-cli-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_directory);
    }

    [TestCleanup]
    public void RemoveDirectory() => Directory.Delete(_directory, recursive: true);

    private string WriteConfig(string sectionJson)
    {
        string path = Path.Combine(_directory, "sfcproxy.json");
        File.WriteAllText(path, $$"""
            // written by a test
            { "SfcProxy": {{sectionJson}} }
            """);
        return path;
    }

    [TestMethod]
    public async Task StatsJsonPrintsTheInstanceAnswer()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["stats", "--socket", server.SocketPath, "--json"]);

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        using var answer = JsonDocument.Parse(cli.Output.ToString());
        Assert.AreEqual(123UL, answer.RootElement.GetProperty("counters").GetProperty("rx_popped").GetUInt64());
    }

    [TestMethod]
    public async Task StatsTableGroupsCountersByProgram()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["stats", "-s", server.SocketPath]);

        string table = cli.Output.ToString();
        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        Assert.Contains("xdp_rx (ingress, pop)", table);
        Assert.Contains("tc_tx (egress, push)", table);
        Assert.Contains("rx_popped", table);
        Assert.Contains("369", table);
    }

    [TestMethod]
    public async Task StatsWithoutARunningInstanceFailsClearly()
    {
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["stats", "--instance", "nope-" + Guid.NewGuid().ToString("N")[..8]]);

        Assert.AreEqual(ExitCodes.Failed, exit);
        Assert.Contains("no SfcProxy instance 'nope-", cli.Error.ToString());
        Assert.Contains(".sock not found", cli.Error.ToString());
    }

    [TestMethod]
    public async Task RunWithABadConfigPrintsEveryFailureAndNeverMakesADatapath()
    {
        string config = WriteConfig("""{ "KeyMode": "fast", "Interfaces": { "Ingress": "no-such-if0" }, "Cache": { "Size": 0 } }""");
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["run", "--config", config]);

        string error = cli.Error.ToString();
        Assert.AreEqual(ExitCodes.BadConfig, exit);
        Assert.Contains("SfcProxy:KeyMode: \"fast\" is not one of 'metadata', 'header-hash'", error);
        Assert.Contains("SfcProxy:Interfaces:Ingress: interface 'no-such-if0' does not exist", error);
        Assert.Contains("SfcProxy:Interfaces:Egress: required", error);
        Assert.Contains("SfcProxy:Cache:Size: 0 is out of range", error);
        Assert.AreEqual(0, cli.DatapathsMade);
    }

    [TestMethod]
    public async Task RunWithAMissingConfigFileFailsClearly()
    {
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["run", "--config", Path.Combine(_directory, "missing.json")]);

        Assert.AreEqual(ExitCodes.BadConfig, exit);
        Assert.Contains("missing.json' not found", cli.Error.ToString());
    }

    [TestMethod]
    public async Task RunAttachesServesStatsAndDetachesOnShutdown()
    {
        string socket = Path.Combine(_directory, "run.sock");
        string config = WriteConfig($$"""{ "Interfaces": { "Ingress": "lo", "Egress": "lo" }, "Socket": { "Path": "{{socket}}" } }""");
        var cli = new CliRunner();
        using var shutdown = new CancellationTokenSource();

        var run = cli.InvokeAsync(["run", "-c", config], shutdown.Token);
        for (int i = 0; i < 200 && !File.Exists(socket) && !run.IsCompleted; i++)
            await Task.Delay(50);
        string answer = await SfcProxy.Control.ControlClient.RequestAsync(socket, "stats", "default");
        await shutdown.CancelAsync();
        int exit = await run;

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        StringAssert.StartsWith(answer, """{"ok":true,"counters":{"rx_popped":123""");
        Assert.AreEqual(1, cli.Datapath.Starts);
        Assert.AreEqual(1, cli.Datapath.Stops);
        Assert.IsFalse(File.Exists(socket), "socket left behind");
    }

    [TestMethod]
    public async Task ValidatePrintsOkForAGoodConfig()
    {
        string config = WriteConfig("""{ "Interfaces": { "Ingress": "lo", "Egress": "lo" } }""");
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["validate", "--config", config]);

        Assert.AreEqual(ExitCodes.Ok, exit, cli.Error.ToString());
        Assert.AreEqual("ok", cli.Output.ToString().Trim());
    }

    [TestMethod]
    public async Task ValidateWithoutInterfaceCheckAcceptsInterfacesOfAnotherHost()
    {
        string config = WriteConfig("""{ "Interfaces": { "Ingress": "ens1f0", "Egress": "ens1f1" } }""");
        var strict = new CliRunner();
        var lenient = new CliRunner();

        int strictExit = await strict.InvokeAsync(["validate", "-c", config]);
        int lenientExit = await lenient.InvokeAsync(["validate", "-c", config, "--no-interface-check"]);

        Assert.AreEqual(ExitCodes.BadConfig, strictExit);
        Assert.AreEqual(ExitCodes.Ok, lenientExit, lenient.Error.ToString());
    }

    [TestMethod]
    public async Task ValidateReportsJsonSyntaxErrorsWithTheirPosition()
    {
        string config = WriteConfig("""{ "Interfaces": """);
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["validate", "-c", config]);

        Assert.AreEqual(ExitCodes.BadConfig, exit);
        Assert.Contains("LineNumber", cli.Error.ToString());
    }
}
