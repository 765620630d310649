using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Configuration;

[TestClass]
public sealed class SfcProxyOptionsValidatorTests
{
    [TestMethod]
    public void MinimalConfigPassesWithDefaults()
    {
        var options = OptionsFixture.Bind(OptionsFixture.Minimal);

        Assert.HasCount(0, OptionsFixture.Failures(options));
        Assert.AreEqual("default", options.Instance);
        CollectionAssert.AreEqual(new[] { Encapsulation.Mpls }, options.Encapsulations.ToArray());
        Assert.AreEqual(KeyMode.HeaderHash, options.KeyMode);
        Assert.AreEqual(XdpMode.Native, options.XdpMode);
        Assert.AreEqual(1, options.ConsumedSegments);
        Assert.AreEqual(MissPolicy.Drop, options.MissPolicy);
        Assert.AreEqual(65536, options.Cache.Size);
        Assert.AreEqual(TimeSpan.FromSeconds(5), options.Cache.MaxAge);
        Assert.AreEqual("/run/sfcproxy/default.sock", options.SocketPath);
        Assert.AreEqual("/sys/fs/bpf/sfcproxy/default", options.PinDirectory);
        Assert.IsTrue(options.DisableGro);
        Assert.IsNull(options.Interfaces.Vnf);
    }

    [TestMethod]
    public void KebabCaseValuesBindToTheSharedEnums()
    {
        var options = OptionsFixture.Bind(OptionsFixture.With("""
            "Instance": "edge-1", "KeyMode": "metadata", "XdpMode": "generic", "MissPolicy": "static",
            "StaticStack": [ { "label": 16005, "ttl": 10, "tc": 5 }, { "Label": 16009 } ],
            "Cache": { "Size": 1024, "MaxAge": "250ms" }, "Socket": { "Path": "/tmp/x.sock" }
            """));

        Assert.HasCount(0, OptionsFixture.Failures(options));
        Assert.AreEqual(KeyMode.Metadata, options.KeyMode);
        Assert.AreEqual(XdpMode.Generic, options.XdpMode);
        Assert.AreEqual(MissPolicy.Static, options.MissPolicy);
        Assert.HasCount(2, options.StaticStack);
        Assert.AreEqual(16005, options.StaticStack[0].Label);
        Assert.AreEqual(5, options.StaticStack[0].Tc);
        Assert.AreEqual(64, options.StaticStack[1].Ttl);
        Assert.AreEqual(TimeSpan.FromMilliseconds(250), options.Cache.MaxAge);
        Assert.AreEqual("/tmp/x.sock", options.SocketPath);
        Assert.AreEqual("/sys/fs/bpf/sfcproxy/edge-1", options.PinDirectory);
    }

    [TestMethod]
    [DataRow("\"Instance\": \"Bad Name\"", "SfcProxy:Instance: 'Bad Name' must match")]
    [DataRow("\"Instance\": \"a234567890123456789012345678901234\"", "SfcProxy:Instance:")]
    [DataRow("\"Encapsulations\": [\"mpls\", \"gre\"]", "SfcProxy:Encapsulations:1: \"gre\" is not one of 'mpls', 'nsh', 'srv6'")]
    [DataRow("\"Nsh\": { \"NextHopMac\": \"02:00:00\" }", "SfcProxy:Nsh:NextHopMac: '02:00:00' is not a MAC address")]
    [DataRow("\"KeyMode\": \"fast\"", "SfcProxy:KeyMode: \"fast\" is not one of 'metadata', 'header-hash'")]
    [DataRow("\"XdpMode\": \"turbo\"", "SfcProxy:XdpMode: \"turbo\" is not one of 'native', 'generic'")]
    [DataRow("\"MissPolicy\": \"forward\"", "SfcProxy:MissPolicy: \"forward\" is not one of 'drop', 'pass', 'static'")]
    [DataRow("\"Socket\": { \"Group\": \"no-such-group-x\" }", "SfcProxy:Socket:Group: group 'no-such-group-x' does not exist on this host")]
    [DataRow("\"ConsumedSegments\": 17", "SfcProxy:ConsumedSegments: 17 is out of range 0..16")]
    [DataRow("\"ConsumedSegments\": -1", "SfcProxy:ConsumedSegments: -1 is out of range 0..16")]
    [DataRow("\"ConsumedSegments\": \"two\"", "SfcProxy:ConsumedSegments: \"two\" is not an integer")]
    [DataRow("\"Interfaces\": { \"Ingress\": \"\" }", "SfcProxy:Interfaces:Ingress: required")]
    [DataRow("\"Interfaces\": { \"Egress\": null }", "SfcProxy:Interfaces:Egress: required")]
    [DataRow("\"Interfaces\": { \"Ingress\": \"eth9\" }", "SfcProxy:Interfaces:Ingress: interface 'eth9' does not exist")]
    [DataRow("\"Interfaces\": { \"Egress\": \"eth9\" }", "SfcProxy:Interfaces:Egress: interface 'eth9' does not exist")]
    [DataRow("\"Interfaces\": { \"Vnf\": \"eth9\" }", "SfcProxy:Interfaces:Vnf: interface 'eth9' does not exist")]
    [DataRow("\"Interfaces\": { \"Ingress\": \"a-very-long-interface\" }", "SfcProxy:Interfaces:Ingress: 'a-very-long-interface' is longer than 15")]
    [DataRow("\"Interfaces\": { \"Ingress\": \"eth0/1\" }", "SfcProxy:Interfaces:Ingress: 'eth0/1' is not a valid interface name")]
    [DataRow("\"Interfaces\": { \"Vnf\": \"eth0\" }", "SfcProxy:Interfaces:Vnf: must differ from Interfaces:Ingress")]
    [DataRow("\"KeyMode\": \"metadata\", \"Interfaces\": { \"Vnf\": \"veth-vnf\" }", "SfcProxy:KeyMode: 'metadata' cannot be used with Interfaces:Vnf set")]
    [DataRow("\"MissPolicy\": \"static\"", "SfcProxy:StaticStack: required (at least one label entry) when MissPolicy is 'static'")]
    [DataRow("\"StaticStack\": [ { \"Label\": 1048576 } ]", "SfcProxy:StaticStack:0:Label: 1048576 is out of range 0..1048575")]
    [DataRow("\"StaticStack\": [ { \"Label\": -1 } ]", "SfcProxy:StaticStack:0:Label: -1 is out of range")]
    [DataRow("\"StaticStack\": [ { \"Label\": 16 }, { \"Label\": 17, \"Ttl\": 0 } ]", "SfcProxy:StaticStack:1:Ttl: 0 is out of range 1..255")]
    [DataRow("\"StaticStack\": [ { \"Label\": 16, \"Ttl\": 256 } ]", "SfcProxy:StaticStack:0:Ttl: 256 is out of range 1..255")]
    [DataRow("\"StaticStack\": [ { \"Label\": 16, \"Tc\": 8 } ]", "SfcProxy:StaticStack:0:Tc: 8 is out of range 0..7")]
    [DataRow("\"StaticStack\": [ { \"Ttl\": 8 } ]", "SfcProxy:StaticStack:0:Label: required")]
    [DataRow("\"StaticStack\": [ { \"Label\": 16, \"Bos\": 1 } ]", "SfcProxy:StaticStack:0:Bos: unknown field")]
    [DataRow("\"StaticStack\": \"16005\"", "SfcProxy:StaticStack: expected a list")]
    [DataRow("\"Cache\": { \"Size\": 0 }", "SfcProxy:Cache:Size: 0 is out of range 1..16777216")]
    [DataRow("\"Cache\": { \"Size\": 16777217 }", "SfcProxy:Cache:Size: 16777217 is out of range 1..16777216")]
    [DataRow("\"Cache\": { \"Size\": \"lots\" }", "SfcProxy:Cache:Size: \"lots\" is not an integer")]
    [DataRow("\"LatencySampleEvery\": 0", "SfcProxy:LatencySampleEvery: 0 is out of range 1..1048576")]
    [DataRow("\"LatencySampleEvery\": 1048577", "SfcProxy:LatencySampleEvery: 1048577 is out of range 1..1048576")]
    [DataRow("\"Cache\": { \"MaxAge\": \"00:00:00\" }", "SfcProxy:Cache:MaxAge: 0ms is out of range 1ms..1h")]
    [DataRow("\"Cache\": { \"MaxAge\": \"2h\" }", "SfcProxy:Cache:MaxAge: 2h is out of range 1ms..1h")]
    [DataRow("\"Cache\": { \"MaxAge\": \"-00:00:01\" }", "SfcProxy:Cache:MaxAge: \"-00:00:01\" is not a duration")]
    [DataRow("\"Cache\": { \"MaxAge\": \"5\" }", "SfcProxy:Cache:MaxAge: \"5\" is not a duration like \"500ms\", \"5s\"")]
    [DataRow("\"Encapsulations\": []", "SfcProxy:Encapsulations: name at least one of")]
    [DataRow("\"Instance\": \"\"", "SfcProxy:Instance: empty; give a value or leave the field out")]
    [DataRow("\"Socket\": { \"Path\": \" \" }", "SfcProxy:Socket:Path: empty")]
    [DataRow("\"Cache\": { \"MaxAge\": \"soon\" }", "SfcProxy:Cache:MaxAge: \"soon\" is not a duration")]
    [DataRow("\"Cache\": \"big\"", "SfcProxy:Cache: expected an object")]
    [DataRow("\"Socket\": { \"Path\": \"run/x.sock\" }", "SfcProxy:Socket:Path: 'run/x.sock' must be an absolute path")]
    [DataRow("\"PinRoot\": \"bpf\"", "SfcProxy:PinRoot: 'bpf' must be an absolute path")]
    [DataRow("\"DisableGro\": \"maybe\"", "SfcProxy:DisableGro: \"maybe\" is not true or false")]
    [DataRow("\"KeyMod\": \"metadata\"", "SfcProxy:KeyMod: unknown field")]
    [DataRow("\"Interfaces\": { \"Vfn\": \"x\" }", "SfcProxy:Interfaces:Vfn: unknown field")]
    [DataRow("\"Metrics\": { \"Listen\": \"9464\" }", "SfcProxy:Metrics:Listen: '9464' must be ADDRESS:PORT")]
    [DataRow("\"Metrics\": { \"Listen\": \"127.0.0.1:\" }", "SfcProxy:Metrics:Listen: '127.0.0.1:' must be ADDRESS:PORT")]
    [DataRow("\"Metrics\": { \"Listen\": \"127.0.0.1:65536\" }", "SfcProxy:Metrics:Listen: port '65536' must be a number from 1 to 65535")]
    [DataRow("\"Metrics\": { \"Listen\": \"127.0.0.1:0\" }", "SfcProxy:Metrics:Listen: port '0' must be a number from 1 to 65535")]
    [DataRow("\"Metrics\": { \"Listen\": \"127.0.0.1:+80\" }", "SfcProxy:Metrics:Listen: port '+80' must be a number")]
    [DataRow("\"Metrics\": { \"Listen\": \"::1:9464\" }", "SfcProxy:Metrics:Listen: '::1:9464': an IPv6 address goes in brackets ([::1]:9464)")]
    [DataRow("\"Metrics\": { \"Listen\": \"localhost:9464\" }", "SfcProxy:Metrics:Listen: 'localhost' is not an IP address")]
    [DataRow("\"Metrics\": { \"Listen\": \"127.1:9464\" }", "SfcProxy:Metrics:Listen: '127.1' is not an IP address")]
    [DataRow("\"Metrics\": { \"Listen\": \"[127.0.0.1]:9464\" }", "SfcProxy:Metrics:Listen: '[127.0.0.1]' is not an IP address")]
    [DataRow("\"Metrics\": { \"Listen\": \"\" }", "SfcProxy:Metrics:Listen: empty")]
    [DataRow("\"Metrics\": { \"Port\": 9464 }", "SfcProxy:Metrics:Port: unknown field")]
    public void BadFieldIsNamed(string overrides, string expected)
    {
        var failures = OptionsFixture.Failures(OptionsFixture.With(overrides));

        Assert.IsTrue(failures.Any(f => f.StartsWith(expected, StringComparison.Ordinal)),
            $"expected a failure starting with \"{expected}\", got:\n{string.Join("\n", failures)}");
    }

    [TestMethod]
    public void StackDeeperThanTheDatapathIsRejected()
    {
        string stack = string.Join(", ", Enumerable.Range(100, 17).Select(l => $$"""{ "Label": {{l}} }"""));

        var failures = OptionsFixture.Failures(OptionsFixture.With($"\"MissPolicy\": \"static\", \"StaticStack\": [ {stack} ]"));

        Assert.AreEqual("SfcProxy:StaticStack: 17 entries, at most 16 are supported", failures.Single());
    }

    [TestMethod]
    public void SocketPathLongerThanSunPathIsRejected()
    {
        string path = "/tmp/" + new string('s', 110) + ".sock";

        var failures = OptionsFixture.Failures(OptionsFixture.With($"\"Socket\": {{ \"Path\": \"{path}\" }}"));

        Assert.IsTrue(failures.Single().StartsWith("SfcProxy:Socket:Path: socket path", StringComparison.Ordinal), failures.Single());
    }

    [TestMethod]
    [DataRow("127.0.0.1:9464", "127.0.0.1", 9464)]
    [DataRow("0.0.0.0:1", "0.0.0.0", 1)]
    [DataRow("[::1]:9464", "::1", 9464)]
    [DataRow("[2001:2::5]:65535", "2001:2::5", 65535)]
    public void MetricsListenTakesAnAddressAndPort(string listen, string address, int port)
    {
        var options = OptionsFixture.Bind(OptionsFixture.With($"\"Metrics\": {{ \"Listen\": \"{listen}\" }}"));

        Assert.HasCount(0, OptionsFixture.Failures(options));
        var parsed = MetricsListenAddress.Parse(options.Metrics.Listen!, out _)!;
        Assert.AreEqual(System.Net.IPAddress.Parse(address), parsed.Address);
        Assert.AreEqual(port, parsed.Port);
        Assert.AreEqual(listen, parsed.ToString());
    }

    [TestMethod]
    public void EveryBadFieldIsReportedAtOnce()
    {
        var failures = OptionsFixture.Failures("""
            {
              "Instance": "Bad Name", "KeyMode": "header_hash", "XdpMode": "turbo", "MissPolicy": "static",
              "ConsumedSegments": 20,
              "Interfaces": { "Ingress": "eth9" },
              "StaticStack": [ { "Label": 2000000, "Ttl": 0 } ],
              "Cache": { "Size": "lots", "MaxAge": "00:00:00" }
            }
            """);

        string[] fields =
        [
            "SfcProxy:Instance:", "SfcProxy:KeyMode:", "SfcProxy:XdpMode:", "SfcProxy:ConsumedSegments:",
            "SfcProxy:Interfaces:Ingress:", "SfcProxy:Interfaces:Egress:", "SfcProxy:StaticStack:0:Label:",
            "SfcProxy:StaticStack:0:Ttl:", "SfcProxy:Cache:Size:", "SfcProxy:Cache:MaxAge:",
        ];
        foreach (string field in fields)
            Assert.IsTrue(failures.Any(f => f.StartsWith(field, StringComparison.Ordinal)), $"{field} missing in:\n{string.Join("\n", failures)}");
        Assert.HasCount(fields.Length, failures);
    }

    [TestMethod]
    public void LoopbackExistsForTheRealInterfaceCheck()
    {
        var options = OptionsFixture.Bind("""{ "Interfaces": { "Ingress": "lo", "Egress": "lo" } }""");

        var result = new SfcProxyOptionsValidator().Validate(null, options);

        Assert.IsTrue(result.Succeeded, result.FailureMessage);
    }

    [TestMethod]
    public void SkippingTheInterfaceCheckStillChecksNames()
    {
        var options = OptionsFixture.Bind("""{ "Interfaces": { "Ingress": "not-here0", "Egress": "bad/name" } }""");

        var result = new SfcProxyOptionsValidator(interfaceNames: null).Validate(null, options);

        Assert.AreEqual("SfcProxy:Interfaces:Egress: 'bad/name' is not a valid interface name", result.Failures!.Single());
    }
}
