namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The three-namespace lab made by tests/e2e/topology.sh (sender, proxy host with the VNF,
/// receiver). Dispose tears it down (idempotent), also after a failed `up`.
/// </summary>
internal sealed class LabTopology : IDisposable
{
    private readonly Dictionary<string, string> _vars;

    private LabTopology(string name, Dictionary<string, string> vars)
    {
        Name = name;
        _vars = vars;
    }

    public string Name { get; }
    public string SenderNs => Var("SND_NS");
    public string ProxyNs => Var("PRX_NS");
    public string ReceiverNs => Var("RCV_NS");
    public string SenderIf => Var("SND_IF");
    public string ProxyIngress => Var("PRX_IN");
    public string ProxyEgress => Var("PRX_OUT");
    public string ProxyIngressMac => Var("PRX_IN_MAC");
    public string ProxyEgressMac => Var("PRX_OUT_MAC");
    public string SenderMac => Var("SND_MAC");
    public string ReceiverMac => Var("RCV_MAC");
    public string ReceiverIf => Var("RCV_IF");
    public string? TunIf => _vars.GetValueOrDefault("TUN_IF");

    /// <summary>Sidecar layout (--sidecar-vnf): the VNF's namespace, else null.</summary>
    public string? VnfNs => _vars.GetValueOrDefault("VNF_NS");

    /// <summary>Sidecar layout: the proxy-side veth into the VNF's namespace (Interfaces:Vnf), else null.</summary>
    public string? VnfIf => _vars.GetValueOrDefault("VNF_IF");
    public int VnfDropPort => int.Parse(Var("VNF_DROP_PORT"));

    public string Var(string key) =>
        _vars.TryGetValue(key, out var v) ? v : throw new InvalidOperationException($"topology.sh up did not print {key}");

    public static LabTopology Up(string name, bool userVnf, bool sidecarVnf = false, IReadOnlyList<string>? extraArgs = null)
    {
        Down(name); // leftovers of an aborted earlier run with the same name (unlikely)
        var args = new List<string> { LabEnvironment.Topology, "up", name };
        if (userVnf)
        {
            args.Add("--user-vnf");
        }
        if (sidecarVnf)
        {
            args.Add("--sidecar-vnf");
        }
        args.AddRange(extraArgs ?? []);
        var r = Cmd.Run("/bin/bash", args, TimeSpan.FromSeconds(30));
        if (r.ExitCode != 0)
        {
            Down(name);
            Assert.Fail($"topology.sh up {name} failed:\n{r}");
        }
        var vars = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => l.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0], kv => kv[1]);
        return new LabTopology(name, vars);
    }

    public static void Down(string name) =>
        Cmd.Run("/bin/bash", [LabEnvironment.Topology, "down", name], TimeSpan.FromSeconds(30));

    /// <summary>Command line prefix that runs something inside one of the lab namespaces.</summary>
    public static string[] InNs(string ns, params string[] cmd) => Netns.InNs(ns, cmd);

    /// <summary>Runs to completion inside a namespace.</summary>
    public CmdResult Exec(string ns, TimeSpan timeout, params string[] cmd) => Netns.Exec(ns, timeout, cmd);

    /// <summary>Starts a background process inside a namespace (see <see cref="Netns.Start"/>).</summary>
    public LabProcess Start(string ns, params string[] cmd) => Netns.Start(ns, cmd);

    /// <summary>Starts a background process in a namespace's network stack only (see <see cref="Netns.StartNetworkOnly"/>).</summary>
    public LabProcess StartNetworkOnly(string ns, params string[] cmd) => Netns.StartNetworkOnly(ns, cmd);

    /// <summary>Runs to completion in a namespace's network stack only (see <see cref="Netns.ExecNetworkOnly"/>).</summary>
    public CmdResult ExecNetworkOnly(string ns, TimeSpan timeout, params string[] cmd) => Netns.ExecNetworkOnly(ns, timeout, cmd);

    public void Dispose() => Down(Name);
}

/// <summary>Running things inside a named network namespace (/run/netns/NAME): the lab topologies
/// (<see cref="LabTopology"/>, the policy lab) and the daemon helpers share these.</summary>
internal static class Netns
{
    /// <summary>Command line prefix (for `ip`) that runs something inside namespace <paramref name="ns"/>.</summary>
    public static string[] InNs(string ns, params string[] cmd) => ["netns", "exec", ns, .. cmd];

    /// <summary>Runs to completion inside a namespace.</summary>
    public static CmdResult Exec(string ns, TimeSpan timeout, params string[] cmd) =>
        Cmd.Run("ip", InNs(ns, cmd), timeout);

    /// <summary>Starts a background process inside a namespace (`ip netns exec` execs the command,
    /// so the pid is the command's pid and SIGTERM reaches it directly).</summary>
    public static LabProcess Start(string ns, params string[] cmd) => new("ip", InNs(ns, cmd));

    /// <summary>Starts a background process in a namespace's network stack only. Unlike `ip netns exec`,
    /// nsenter keeps the host's mount namespace, so the daemon pins on the host's bpffs (`ip netns exec`
    /// remounts /sys, where /sys/fs/bpf is then no bpffs).</summary>
    public static LabProcess StartNetworkOnly(string ns, params string[] cmd) =>
        new("nsenter", [$"--net=/run/netns/{ns}", "--", .. cmd]);

    /// <summary>Runs to completion in a namespace's network stack only (see <see cref="StartNetworkOnly"/>):
    /// for sfcproxy commands that touch the host's bpffs (`sfcproxy detach`).</summary>
    public static CmdResult ExecNetworkOnly(string ns, TimeSpan timeout, params string[] cmd) =>
        Cmd.Run("nsenter", [$"--net=/run/netns/{ns}", "--", .. cmd], timeout);
}
