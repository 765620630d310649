using System.Text.Json;
using System.Text.Json.Nodes;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The real daemon (`dotnet sfcproxy.dll run --config FILE`) started inside the proxy namespace.
/// Ready = its Unix stats socket exists. Stopped with SIGTERM.
/// </summary>
internal sealed class SfcProxyDaemon : IDisposable
{
    private readonly LabProcess _proc;

    private SfcProxyDaemon(LabProcess proc, string configPath, string socketPath)
    {
        _proc = proc;
        ConfigPath = configPath;
        SocketPath = socketPath;
    }

    public string ConfigPath { get; }
    public string SocketPath { get; }
    public LabProcess Process => _proc;

    /// <summary>Writes the config file for this lab and key mode. <paramref name="encapsulations"/>
    /// null leaves Encapsulations out (the default: MPLS); <paramref name="nshNextHopMac"/> null
    /// leaves the Nsh section out.</summary>
    public static string WriteConfig(string dir, string instance, string keyMode, LabTopology topo, string socketPath,
        IReadOnlyList<string>? encapsulations = null, string? nshNextHopMac = null)
    {
        var proxy = new JsonObject
        {
            ["Instance"] = instance,
            ["KeyMode"] = keyMode,
            ["Interfaces"] = new JsonObject { ["Ingress"] = topo.ProxyIngress, ["Egress"] = topo.ProxyEgress },
            ["ConsumedSegments"] = 1,
            ["MissPolicy"] = "drop",
            ["Cache"] = new JsonObject { ["Size"] = 65536 },
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
        var config = new JsonObject { ["SfcProxy"] = proxy };
        var path = Path.Combine(dir, "sfcproxy.json");
        File.WriteAllText(path, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    public static SfcProxyDaemon Start(LabTopology topo, string configPath, string socketPath, TimeSpan readyTimeout)
    {
        if (File.Exists(socketPath))
        {
            File.Delete(socketPath);
        }
        var proc = topo.StartNetworkOnly(topo.ProxyNs, [.. LabEnvironment.DaemonCommand, "run", "--config", configPath]);
        var d = new SfcProxyDaemon(proc, configPath, socketPath);
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
