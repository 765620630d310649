using System.Text.Json;
using System.Text.Json.Nodes;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The real daemon (`dotnet sfcproxy.dll run --config FILE`) started inside the proxy namespace.
/// Ready = its Unix stats socket exists. Stopped with SIGTERM (<see cref="Stop"/>), SIGKILL
/// (<see cref="Kill"/>), reloaded with SIGHUP (<see cref="Reload"/>).
/// </summary>
internal sealed class SfcProxyDaemon : IDisposable
{
    private readonly LabProcess _proc;
    private readonly string _ns;

    private SfcProxyDaemon(LabProcess proc, string ns, string configPath, string socketPath)
    {
        _proc = proc;
        _ns = ns;
        ConfigPath = configPath;
        SocketPath = socketPath;
    }

    public string ConfigPath { get; }
    public string SocketPath { get; }
    public LabProcess Process => _proc;

    /// <summary>Writes the config file for this lab and key mode (Interfaces:Vnf set in the sidecar
    /// layout). <paramref name="encapsulations"/>
    /// null leaves Encapsulations out (the default: MPLS); <paramref name="nshNextHopMac"/> null
    /// leaves the Nsh section out. <paramref name="customize"/> edits the SfcProxy section before it is
    /// written (e.g. <c>p =&gt; p["DetachOnStop"] = false</c>).</summary>
    public static string WriteConfig(string dir, string instance, string keyMode, LabTopology topo, string socketPath,
        IReadOnlyList<string>? encapsulations = null, string? nshNextHopMac = null, Action<JsonObject>? customize = null)
    {
        var proxy = new JsonObject
        {
            ["Instance"] = instance,
            ["KeyMode"] = keyMode,
            ["Interfaces"] = topo.VnfIf is { } vnf
                ? new JsonObject { ["Ingress"] = topo.ProxyIngress, ["Egress"] = topo.ProxyEgress, ["Vnf"] = vnf }
                : new JsonObject { ["Ingress"] = topo.ProxyIngress, ["Egress"] = topo.ProxyEgress },
            ["ConsumedSegments"] = 1,
            ["MissPolicy"] = "drop",
            ["Cache"] = new JsonObject { ["Size"] = 16383 }, // the most the default Metadata:MarkMask names
            ["Socket"] = new JsonObject { ["Path"] = socketPath },
        };
        if (encapsulations is not null)
        {
            proxy["Encapsulations"] = new JsonArray([.. encapsulations.Select(e => JsonValue.Create(e))]);
        }
        if (nshNextHopMac is not null)
        {
            proxy["Nsh"] = new JsonObject { ["NextHopMac"] = nshNextHopMac };
        }
        customize?.Invoke(proxy);
        var config = new JsonObject { ["SfcProxy"] = proxy };
        var path = Path.Combine(dir, "sfcproxy.json");
        File.WriteAllText(path, config.ToJsonString(Indented));
        return path;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Rewrites a config file written by <see cref="WriteConfig"/>: <paramref name="edit"/>
    /// changes its SfcProxy section (set a field, or <c>Remove</c> it). Written to a temporary file
    /// and renamed, so a daemon reloading at that moment never reads half a file.</summary>
    public static void EditConfig(string path, Action<JsonObject> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(root["SfcProxy"]!.AsObject());
        var tmp = path + ".new";
        File.WriteAllText(tmp, root.ToJsonString(Indented));
        File.Move(tmp, path, overwrite: true);
    }

    public static SfcProxyDaemon Start(LabTopology topo, string configPath, string socketPath, TimeSpan readyTimeout) =>
        Start(topo.ProxyNs, configPath, socketPath, readyTimeout);

    /// <summary>Starts the daemon in namespace <paramref name="ns"/>'s network stack (host mounts, so
    /// the host's bpffs) and waits for its socket; fails the test with its output if it exits first.</summary>
    public static SfcProxyDaemon Start(string ns, string configPath, string socketPath, TimeSpan readyTimeout)
    {
        if (File.Exists(socketPath))
        {
            File.Delete(socketPath);
        }
        var proc = Netns.StartNetworkOnly(ns, [.. LabEnvironment.DaemonCommand, "run", "--config", configPath]);
        var d = new SfcProxyDaemon(proc, ns, configPath, socketPath);
        var deadline = DateTime.UtcNow + readyTimeout;
        while (!File.Exists(socketPath))
        {
            if (proc.HasExited)
            {
                proc.WaitForExit(TimeSpan.FromSeconds(2));
                var msg = $"sfcproxy exited (code {proc.ExitCode}) before its socket {socketPath} appeared.\n" +
                          $"config:\n{File.ReadAllText(configPath)}\n{proc.Describe()}";
                proc.Dispose();
                Assert.Fail(msg);
            }
            if (DateTime.UtcNow > deadline)
            {
                var msg = $"sfcproxy did not create its socket {socketPath} within {readyTimeout.TotalSeconds:0} s.\n{proc.Describe()}";
                proc.Dispose();
                Assert.Fail(msg);
            }
            Thread.Sleep(100);
        }
        return d;
    }

    /// <summary>`sfcproxy stats --socket S --json`, as text (errors included: this is diagnostics).</summary>
    public string Stats(LabTopology topo)
    {
        var r = topo.Exec(topo.ProxyNs, TimeSpan.FromSeconds(20),
            [.. LabEnvironment.DaemonCommand, "stats", "--socket", SocketPath, "--json"]);
        return r.ExitCode == 0 ? r.StdOut.Trim() : $"<sfcproxy stats failed: {r}>";
    }

    /// <summary>`sfcproxy ARGS --socket S` against this daemon, run in its namespace, whatever it answers.</summary>
    public CmdResult Cli(params string[] args) =>
        Netns.Exec(_ns, TimeSpan.FromSeconds(20), [.. LabEnvironment.DaemonCommand, .. args, "--socket", SocketPath]);

    /// <summary>`sfcproxy stats --json` of this daemon as counter name -> value; fails the test if
    /// the daemon does not answer.</summary>
    public IReadOnlyDictionary<string, long> Counters()
    {
        var text = Cli("stats", "--json") is { ExitCode: 0 } r ? r.StdOut.Trim() : "<sfcproxy stats failed>";
        var counters = ParseCounters(text);
        if (counters is null)
        {
            Assert.Fail($"sfcproxy stats gave no counters: {text}\n{_proc.Describe(3000)}");
        }
        return counters;
    }

    /// <summary>The counters of a stats answer ({"ok":true,"counters":{name:n}}), null if it is none.</summary>
    public static Dictionary<string, long>? ParseCounters(string statsJson)
    {
        try
        {
            using var doc = JsonDocument.Parse(statsJson);
            return doc.RootElement.TryGetProperty("counters", out var c)
                ? c.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64())
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>`sfcproxy status --socket S --json`: the "status" object, or null (and the raw
    /// answer in <paramref name="raw"/>) when the daemon does not answer ok.</summary>
    public JsonElement? TryStatus(out string raw)
    {
        var r = Cli("status", "--json");
        raw = r.ExitCode == 0 ? r.StdOut.Trim() : r.ToString();
        if (r.ExitCode != 0)
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(r.StdOut);
            return doc.RootElement.TryGetProperty("status", out var st) ? st.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The running config as `status --json` reports it; fails the test if it does not answer.</summary>
    public JsonElement Status()
    {
        var st = TryStatus(out var raw);
        if (st is null)
        {
            Assert.Fail($"sfcproxy status --json failed: {raw}\n{_proc.Describe(3000)}");
        }
        return st.Value;
    }

    /// <summary>Polls `status --json` until <paramref name="until"/> holds; fails the test (with
    /// <paramref name="what"/>, the last answer and the daemon output) after <paramref name="timeout"/>.</summary>
    public JsonElement WaitForStatus(Func<JsonElement, bool> until, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        string raw;
        while (true)
        {
            var st = TryStatus(out raw);
            if (st is not null && until(st.Value))
            {
                return st.Value;
            }
            if (DateTime.UtcNow > deadline || _proc.HasExited)
            {
                break;
            }
            Thread.Sleep(200);
        }
        Assert.Fail($"{what}: not seen in `sfcproxy status --json` within {timeout.TotalSeconds:0.#} s. Last answer: {raw}\n{_proc.Describe(4000)}");
        return default;
    }

    /// <summary>A string property of a status object, "" if missing (tolerant so the assertion names it).</summary>
    public static string StatusText(JsonElement status, string name) =>
        status.TryGetProperty(name, out var v) ? v.ToString() : "";

    /// <summary>SIGHUP: re-read the config file.</summary>
    public void Reload()
    {
        if (!_proc.Signal(Native.SIGHUP))
        {
            Assert.Fail($"could not send SIGHUP to sfcproxy (pid {_proc.Pid}).\n{_proc.Describe(3000)}");
        }
    }

    /// <summary>SIGKILL (no cleanup at all: what a crash leaves behind) and wait for the exit.</summary>
    public void Kill()
    {
        _proc.Signal(Native.SIGKILL);
        if (!_proc.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            Assert.Fail($"sfcproxy (pid {_proc.Pid}) did not die on SIGKILL.");
        }
    }

    /// <summary>`sfcproxy detach --instance NAME [--pin-root DIR] [--socket PATH]` in the proxy
    /// namespace's network stack with the host's bpffs (like the daemon itself).</summary>
    public static CmdResult Detach(LabTopology topo, string instance, string? pinRoot = null, string? socketPath = null) =>
        topo.ExecNetworkOnly(topo.ProxyNs, TimeSpan.FromSeconds(30),
            [.. LabEnvironment.DaemonCommand, "detach", "--instance", instance,
                .. pinRoot is null ? Array.Empty<string>() : ["--pin-root", pinRoot],
                .. socketPath is null ? Array.Empty<string>() : ["--socket", socketPath]]);

    /// <summary>SIGTERM and wait; returns a description of how it ended.</summary>
    public string Stop(TimeSpan grace)
    {
        var graceful = _proc.Stop(grace);
        return graceful
            ? $"sfcproxy exited with code {_proc.ExitCode} on SIGTERM"
            : $"sfcproxy did not exit within {grace.TotalSeconds:0} s of SIGTERM (killed)";
    }

    public void Dispose()
    {
        _proc.Dispose();
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
