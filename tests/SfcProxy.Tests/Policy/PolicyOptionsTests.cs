using SfcProxy.Policy;
using SfcProxy.Tests.Configuration;

namespace SfcProxy.Tests.Policy;

/// <summary>The optional SfcProxy:Policy section: bound, and validated with the rest of the config.</summary>
[TestClass]
public sealed class PolicyOptionsTests
{
    [TestMethod]
    public void AbsentSectionMeansNoPolicyModule()
    {
        var options = OptionsFixture.Bind(OptionsFixture.Minimal);

        Assert.IsFalse(options.Policy.Enabled);
        Assert.IsEmpty(OptionsFixture.Failures(options));
    }

    [TestMethod]
    public void GoodFilesAndExistingInterfacesValidate()
    {
        using var files = new PolicyFiles();
        string path = files.Write("p.yaml", PolicyTexts.WebYaml);

        var options = OptionsFixture.Bind(OptionsFixture.With($$"""
            "Policy": { "Files": ["{{path}}"], "Interfaces": ["eth0", "lo"] }
            """));

        Assert.IsTrue(options.Policy.Enabled);
        CollectionAssert.AreEqual(new[] { "eth0", "lo" }, options.Policy.Interfaces.ToList());
        Assert.IsEmpty(OptionsFixture.Failures(options));
    }

    [TestMethod]
    public void EveryPolicyProblemIsReportedByField()
    {
        using var files = new PolicyFiles();
        string bad = files.Write("bad.yaml", "rules: [{name: r, from: {}, to: {}, ports: [{protocol: tcp, port: 70000}]}]");

        var failures = OptionsFixture.Failures(OptionsFixture.With($$"""
            "Policy": { "Files": ["{{bad}}", "relative.yaml", "/nonexistent/p.yaml"], "Interfaces": ["eth9", "lo"], "Mode": "strict" }
            """));

        Assert.Contains("SfcProxy:Policy:Mode: unknown field (known fields: Files, Interfaces)", failures);
        Assert.Contains("SfcProxy:Policy:Interfaces:0: interface 'eth9' does not exist in this network namespace", failures);
        Assert.Contains("SfcProxy:Policy:Files:1: 'relative.yaml' must be an absolute path", failures);
        Assert.Contains("SfcProxy:Policy:Files:2: file '/nonexistent/p.yaml' does not exist", failures);
        Assert.HasCount(4, failures, string.Join("\n", failures));

        var parsed = OptionsFixture.Failures(OptionsFixture.With($$"""
            "Policy": { "Files": ["{{bad}}"] }
            """));
        Assert.Contains("SfcProxy:Policy:Interfaces: required when Policy:Files is set (name the interfaces whose traffic the policy judges)", parsed);
        Assert.Contains($"SfcProxy:Policy:Files: {bad}: rules[0] 'r': ports[0].port: 70000 is out of range 1..65535", parsed);
    }
}
