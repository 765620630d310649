using YamlDotNet.RepresentationModel;

namespace SfcProxy.Tests.Deploy;

/// <summary>The files under deploy/ parse and carry the fields the deployment depends on.</summary>
[TestClass]
public sealed class DeploymentFilesTests
{
    private static string DeployFile(string relative) => Path.Combine(AppContext.BaseDirectory, "deploy", relative);

    private static YamlMappingNode LoadYaml(string relative)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(DeployFile(relative));
        stream.Load(reader);
        Assert.HasCount(1, stream.Documents);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (string step in path)
        {
            node = int.TryParse(step, out int index)
                ? ((YamlSequenceNode)node).Children[index]
                : ((YamlMappingNode)node).Children[new YamlScalarNode(step)];
        }
        return node;
    }

    private static string Scalar(YamlNode node, params string[] path) => ((YamlScalarNode)At(node, path)).Value!;

    [TestMethod]
    public void DaemonSetRunsOnTheHostNetworkWithTheBpfCapabilitiesAndMounts()
    {
        var ds = LoadYaml("kubernetes/daemonset.yaml");

        Assert.AreEqual("DaemonSet", Scalar(ds, "kind"));
        var pod = At(ds, "spec", "template", "spec");
        Assert.AreEqual("true", Scalar(pod, "hostNetwork"));
        var container = At(pod, "containers", "0");
        var added = ((YamlSequenceNode)At(container, "securityContext", "capabilities", "add")).Children
            .Select(c => ((YamlScalarNode)c).Value).ToList();
        CollectionAssert.IsSubsetOf(new[] { "BPF", "NET_ADMIN" }, added);

        var mounts = ((YamlSequenceNode)At(container, "volumeMounts")).Children.Cast<YamlMappingNode>()
            .ToDictionary(m => Scalar(m, "mountPath"));
        Assert.AreEqual("Bidirectional", Scalar(mounts["/sys/fs/bpf"], "mountPropagation"));
        Assert.IsTrue(mounts.ContainsKey("/run/sfcproxy"));
        Assert.IsTrue(mounts.ContainsKey("/etc/sfcproxy"));
        // Kubernetes only admits Bidirectional propagation in privileged containers.
        Assert.AreEqual("true", Scalar(container, "securityContext", "privileged"));

        var volumes = ((YamlSequenceNode)At(pod, "volumes")).Children.Cast<YamlMappingNode>().ToDictionary(v => Scalar(v, "name"));
        Assert.AreEqual("/sys/fs/bpf", Scalar(volumes["bpffs"], "hostPath", "path"));
        Assert.AreEqual("/run/sfcproxy", Scalar(volumes["run"], "hostPath", "path"));
        Assert.AreEqual("/var/lib/sfcproxy", Scalar(volumes["state"], "hostPath", "path"), "live DSR changes survive the pod");
        Assert.IsTrue(mounts.ContainsKey("/var/lib/sfcproxy"));
        Assert.AreEqual("sfcproxy-config", Scalar(volumes["config"], "configMap", "name"));

        var liveness = ((YamlSequenceNode)At(container, "livenessProbe", "exec", "command")).Children.Select(c => ((YamlScalarNode)c).Value).ToList();
        CollectionAssert.AreEqual(new[] { "sfcproxy", "status" }, liveness.Take(2).ToList());
    }

    [TestMethod]
    public void ConfigMapCarriesAValidInstanceConfig()
    {
        var map = LoadYaml("kubernetes/configmap.yaml");

        Assert.AreEqual("ConfigMap", Scalar(map, "kind"));
        string json = Scalar(map, "data", "sfcproxy.json");
        var options = Configuration.OptionsFixture.Bind(System.Text.Json.Nodes.JsonNode.Parse(json)!["SfcProxy"]!.ToJsonString());
        var failures = new SfcProxy.Configuration.SfcProxyOptionsValidator(interfaceNames: null).Validate(null, options);
        Assert.IsTrue(failures.Succeeded, string.Join("\n", failures.Failures ?? []));
        Assert.AreEqual("/run/sfcproxy/k8s.sock", options.Socket.Path);
    }

    [TestMethod]
    public void DaemonSetIsAnnotatedForScrapingAtTheConfigMapsMetricsPort()
    {
        var ds = LoadYaml("kubernetes/daemonset.yaml");
        var map = LoadYaml("kubernetes/configmap.yaml");
        var options = Configuration.OptionsFixture.Bind(
            System.Text.Json.Nodes.JsonNode.Parse(Scalar(map, "data", "sfcproxy.json"))!["SfcProxy"]!.ToJsonString());
        int port = SfcProxy.Configuration.MetricsListenAddress.Parse(options.Metrics.Listen!, out string reason)?.Port
            ?? throw new AssertFailedException(reason);

        var annotations = At(ds, "spec", "template", "metadata", "annotations");
        Assert.AreEqual("true", Scalar(annotations, "prometheus.io/scrape"));
        Assert.AreEqual(port.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar(annotations, "prometheus.io/port"));
        Assert.AreEqual(SfcProxy.Metrics.MetricsEndpoint.Path, Scalar(annotations, "prometheus.io/path"));
        var declared = At(ds, "spec", "template", "spec", "containers", "0", "ports", "0");
        Assert.AreEqual("metrics", Scalar(declared, "name"));
        Assert.AreEqual(port.ToString(System.Globalization.CultureInfo.InvariantCulture), Scalar(declared, "containerPort"));
    }

    [TestMethod]
    public void SystemdUnitIsANotifyTemplateWithReloadAndCapabilities()
    {
        string unit = File.ReadAllText(DeployFile("systemd/sfcproxy@.service"));
        var settings = unit.Split('\n')
            .Where(l => l.Contains('=') && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .GroupBy(kv => kv[0].Trim())
            .ToDictionary(g => g.Key, g => g.Last()[1].Trim());

        Assert.AreEqual("notify", settings["Type"]);
        Assert.AreEqual("/usr/bin/sfcproxy run --config /etc/sfcproxy/%i.json", settings["ExecStart"]);
        Assert.AreEqual("/bin/kill -HUP $MAINPID", settings["ExecReload"]);
        Assert.AreEqual("sfcproxy", settings["RuntimeDirectory"]);
        Assert.AreEqual("sfcproxy", settings["StateDirectory"], "/var/lib/sfcproxy: the default StateDirectory, writable under ProtectSystem=strict");
        foreach (string capability in new[] { "CAP_BPF", "CAP_NET_ADMIN", "CAP_SYS_ADMIN" })
            Assert.Contains(capability, settings["AmbientCapabilities"]);
    }
}
