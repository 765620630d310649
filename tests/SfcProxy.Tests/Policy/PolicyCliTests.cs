using System.Text.Json;
using SfcProxy.Cli;
using SfcProxy.Tests.Cli;

namespace SfcProxy.Tests.Policy;

/// <summary>`sfcproxy policy` offline (files only) and against a control server with the fake policy datapath.</summary>
[TestClass]
public sealed class PolicyCliTests
{
    [TestMethod]
    public async Task LsOfflineListsIdentitiesAndRuleEntries()
    {
        using var files = new PolicyFiles();
        string path = files.Write("p.yaml", PolicyTexts.WebYaml);
        var table = new CliRunner();
        var json = new CliRunner();

        int tableExit = await table.InvokeAsync(["policy", "ls", "--file", path]);
        int jsonExit = await json.InvokeAsync(["policy", "ls", "--file", path, "--json"]);

        Assert.AreEqual(ExitCodes.Ok, tableExit, table.Error.ToString());
        string text = table.Output.ToString();
        Assert.Contains("app=web,env=prod", text);
        Assert.Contains("2001:2:10::/64", text);
        Assert.Contains("web-from-lb", text);
        Assert.Contains("tcp/80, tcp/443", text);
        Assert.Contains("3 identities, 4 prefixes, 2 rules, 4 entries, 1 enforced identities", text);
        Assert.Contains("from the files (offline)", text);
        Assert.AreEqual(ExitCodes.Ok, jsonExit, json.Error.ToString());
        using var answer = JsonDocument.Parse(json.Output.ToString());
        var rules = answer.RootElement.GetProperty("policy").GetProperty("rules");
        Assert.AreEqual(2, rules[1].GetProperty("entries").GetInt32(), "icmp: ICMP and ICMPv6");
        Assert.IsFalse(rules[0].TryGetProperty("hits", out _), "offline: no hit counters");
    }

    [TestMethod]
    public async Task LsOfflinePrintsEveryErrorAndExits2()
    {
        using var files = new PolicyFiles();
        string a = files.Write("a.yaml", "rules: [{name: r, from: {}, to: {}, ports: [{protocol: tcp, port: 0}]}]");
        string b = files.Write("b.json", """{ "endpoints": [ { "name": "x", "cidrs": [ "10.0.0.1/24" ] } ] }""");
        var cli = new CliRunner();

        int exit = await cli.InvokeAsync(["policy", "ls", "-f", a, "-f", b]);

        Assert.AreEqual(ExitCodes.BadConfig, exit);
        string error = cli.Error.ToString();
        Assert.Contains($"{a}: rules[0] 'r': ports[0].port: 0 is out of range 1..65535", error);
        Assert.Contains($"{b}: endpoints[0] 'x': cidrs[0]: '10.0.0.1/24' has host bits set", error);
        Assert.Contains("2 error(s)", error);
    }

    [TestMethod]
    public async Task CheckOfflineIsTheModelsAnswer()
    {
        using var files = new PolicyFiles();
        string path = files.Write("p.json", PolicyTexts.WebJson);
        var allowed = new CliRunner();
        var denied = new CliRunner();
        var json = new CliRunner();

        int allowedExit = await allowed.InvokeAsync(["policy", "check", "--file", path, "--offline", "--src", "198.18.1.4", "--dst", "198.18.10.9", "--proto", "tcp", "--port", "443"]);
        int deniedExit = await denied.InvokeAsync(["policy", "check", "--file", path, "--offline", "--src", "203.0.113.1", "--dst", "198.18.10.9", "--proto", "udp", "--port", "53"]);
        int jsonExit = await json.InvokeAsync(["policy", "check", "--file", path, "--offline", "--src", "198.18.10.9", "--dst", "198.18.1.4", "--proto", "any", "--json"]);

        Assert.AreEqual(ExitCodes.Ok, allowedExit, allowed.Error.ToString());
        Assert.Contains("ALLOWED by rule 'web-from-lb' (#1)", allowed.Output.ToString());
        Assert.Contains("the model (policy files, offline), not the datapath", allowed.Output.ToString());
        Assert.AreEqual(ExitCodes.Ok, deniedExit, denied.Error.ToString());
        Assert.Contains("DENIED: default deny", denied.Output.ToString());
        Assert.Contains("identity 2 reserved:world (no endpoint CIDR covers", denied.Output.ToString());
        Assert.AreEqual(ExitCodes.Ok, jsonExit, json.Error.ToString());
        using var answer = JsonDocument.Parse(json.Output.ToString());
        var check = answer.RootElement.GetProperty("check");
        Assert.AreEqual("model", check.GetProperty("answeredBy").GetString());
        Assert.AreEqual("not-enforced", check.GetProperty("verdict").GetString());
    }

    [TestMethod]
    public async Task CheckRefusesFilesWithoutOfflineAndOfflineWithoutFiles()
    {
        var noFiles = new CliRunner();
        var noOffline = new CliRunner();

        int noFilesExit = await noFiles.InvokeAsync(["policy", "check", "--offline", "--src", "10.0.0.1", "--dst", "10.0.0.2", "--proto", "tcp", "--port", "1"]);
        int noOfflineExit = await noOffline.InvokeAsync(["policy", "check", "--file", "/x.yaml", "--src", "10.0.0.1", "--dst", "10.0.0.2", "--proto", "tcp", "--port", "1"]);

        Assert.AreNotEqual(ExitCodes.Ok, noFilesExit);
        Assert.Contains("--offline needs the policy files", noFiles.Error.ToString());
        Assert.AreNotEqual(ExitCodes.Ok, noOfflineExit);
        Assert.Contains("--file is for --offline", noOffline.Error.ToString());
    }

    [TestMethod]
    public async Task AgainstTheDaemonLsShowsHitsCheckAsksTheDatapathAndApplyReloads()
    {
        await using var daemon = await PolicyControlTests.Daemon.StartAsync();
        string socket = daemon.Server.SocketPath;
        var ls = new CliRunner();
        var check = new CliRunner();
        var apply = new CliRunner();

        int lsExit = await ls.InvokeAsync(["policy", "ls", "-s", socket]);
        int checkExit = await check.InvokeAsync(["policy", "check", "-s", socket, "--src", "198.18.1.4", "--dst", "198.18.10.9", "--proto", "tcp", "--port", "80"]);
        int applyExit = await apply.InvokeAsync(["policy", "apply", "-s", socket]);

        Assert.AreEqual(ExitCodes.Ok, lsExit, ls.Error.ToString());
        Assert.Contains("hits", ls.Output.ToString());
        Assert.Contains("42", ls.Output.ToString());
        Assert.Contains("from the running daemon", ls.Output.ToString());
        Assert.AreEqual(ExitCodes.Ok, checkExit, check.Error.ToString());
        Assert.Contains("ALLOWED by rule 'web-from-lb'", check.Output.ToString());
        Assert.Contains("the datapath of the running daemon", check.Output.ToString());
        Assert.AreEqual(ExitCodes.Ok, applyExit, apply.Error.ToString());
        StringAssert.StartsWith(apply.Output.ToString(), "applied 1 file(s): 3 identities, 2 rules, 4 entries, 1 enforced identities");

        File.WriteAllText(daemon.PolicyPath, "rules: [{name: r, from: {}, to: {reserved: mars}}]");
        var failed = new CliRunner();
        int failedExit = await failed.InvokeAsync(["policy", "apply", "-s", socket]);

        Assert.AreEqual(ExitCodes.Failed, failedExit);
        Assert.Contains("policy not applied, the policy in force is unchanged:", failed.Error.ToString());
        Assert.Contains("rules[0] 'r': to.reserved: 'mars' is not a reserved identity", failed.Error.ToString());
    }
}
