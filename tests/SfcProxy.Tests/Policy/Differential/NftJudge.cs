using System.Diagnostics;
using System.Text.Json;
using SfcProxy.Tests.EndToEnd;

namespace SfcProxy.Tests.Policy.Differential;

/// <summary>
/// The kernel's nftables as a judge: one network namespace NAME where a router forwards what its
/// ruleset accepts, and tests/e2e/policy_nft_judge.py inside it sending frames in and reading back
/// the ones that came out.
/// <code>
///  inj ──(veth)── in 198.19.255.1/30   [router: forwarding, nftables fwd chain, conntrack]
///  cap ──(veth)── out 198.19.255.5/30  routes 198.18.0.0/15 via 198.19.255.6, 2001:2::/48 via fe80::99
/// </code>
/// The gateways have permanent neighbour entries with a MAC that is not cap's, so the router's stack
/// never sees a forwarded frame twice; cap and inj have no IPv6 (no stray traffic of their own).
/// TCP conntrack picks up no connection in the middle (nf_conntrack_tcp_loose 0): only a SYN opens.
/// </summary>
internal sealed class NftJudge : IDisposable
{
    public const string Nft = "/usr/sbin/nft";
    private const string Table = "judge";

    private readonly Process _proc;
    private readonly StreamWriter _in;
    private readonly StreamReader _out;

    private NftJudge(string ns, Process proc)
    {
        Namespace = ns;
        _proc = proc;
        _in = proc.StandardInput;
        _out = proc.StandardOutput;
    }

    public string Namespace { get; }

    public static NftJudge Start()
    {
        Require();
        var ns = "pj" + Convert.ToHexString(Guid.NewGuid().ToByteArray()[..3]).ToLowerInvariant();
        try
        {
            Build(ns);
            var psi = new ProcessStartInfo("ip")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "netns", "exec", ns, LabEnvironment.Python, Path.Combine(LabEnvironment.ScriptDir, "policy_nft_judge.py"),
                         "--inject", "inj", "--capture", "cap", "--cpu", "0" })
                psi.ArgumentList.Add(a);
            var proc = Process.Start(psi) ?? throw new InvalidOperationException("could not start policy_nft_judge.py");
            var judge = new NftJudge(ns, proc);
            var ready = judge._out.ReadLine();
            if (ready != "READY")
            {
                var err = proc.StandardError.ReadToEnd();
                judge.Dispose();
                Assert.Fail($"policy_nft_judge.py did not start in {ns}: {ready}\n{err}");
            }
            return judge;
        }
        catch
        {
            Cmd.Run("ip", ["netns", "del", ns], TimeSpan.FromSeconds(15));
            throw;
        }
    }

    /// <summary>Replaces the ruleset (one nft transaction).</summary>
    public void Apply(string ruleset)
    {
        var r = Request(new Dictionary<string, object> { ["op"] = "nft", ["ruleset"] = ruleset });
        if (!r.GetProperty("ok").GetBoolean())
            Assert.Fail($"nft -f refused the judge's ruleset: {r.GetProperty("error").GetString()}\n{ruleset}");
    }

    /// <summary>Sends the frames in order, then the sentinel; returns the tags of the frames the router forwarded.</summary>
    public HashSet<int> Send(IEnumerable<byte[]> frames, byte[] sentinel, int sentinelTag)
    {
        var hex = frames.Select(Convert.ToHexString).Append(Convert.ToHexString(sentinel)).ToList();
        var r = Request(new Dictionary<string, object> { ["op"] = "send", ["frames"] = hex, ["sentinel"] = sentinelTag });
        if (!r.GetProperty("ok").GetBoolean())
            Assert.Fail($"the nftables judge lost its sentinel: {r.GetProperty("error").GetString()}");
        return [.. r.GetProperty("passed").EnumerateArray().Select(e => e.GetInt32())];
    }

    private JsonElement Request(Dictionary<string, object> request)
    {
        _in.WriteLine(JsonSerializer.Serialize(request));
        _in.Flush();
        var line = _out.ReadLine();
        if (line is null)
            Assert.Fail($"policy_nft_judge.py exited: {_proc.StandardError.ReadToEnd()}");
        using var doc = JsonDocument.Parse(line!);
        return doc.RootElement.Clone();
    }

    private static void Require()
    {
        var missing = new List<string>();
        if (!Native.IsRoot)
            missing.Add("root (a network namespace, nftables, raw sockets)");
        if (!File.Exists(Nft))
            missing.Add($"{Nft} (apt-get install nftables; scripts/setup.sh installs it)");
        if (!File.Exists(LabEnvironment.Python))
            missing.Add(LabEnvironment.Python);
        var script = Path.Combine(LabEnvironment.ScriptDir, "policy_nft_judge.py");
        if (!File.Exists(script))
            missing.Add($"{script} (tests/e2e/** is copied next to the test binary)");
        if (missing.Count > 0)
            Assert.Fail("the nftables judge needs:\n - " + string.Join("\n - ", missing));
    }

    private static void Build(string ns)
    {
        void Ip(params string[] args) => Cmd.Check("judge namespace", "ip", ["-n", ns, .. args], TimeSpan.FromSeconds(15));
        void Sysctl(string name, string value) =>
            Cmd.Check("judge sysctl", "ip", ["netns", "exec", ns, "sysctl", "-qw", $"{name}={value}"], TimeSpan.FromSeconds(15));

        Cmd.Check("judge namespace", "ip", ["netns", "add", ns], TimeSpan.FromSeconds(15));
        Ip("link", "set", "lo", "up");
        Ip("link", "add", "inj", "address", "02:00:00:00:01:01", "type", "veth", "peer", "name", "in", "address", "02:00:00:00:01:02");
        Ip("link", "add", "cap", "address", "02:00:00:00:01:04", "type", "veth", "peer", "name", "out", "address", "02:00:00:00:01:03");
        Sysctl("net.ipv6.conf.inj.disable_ipv6", "1");
        Sysctl("net.ipv6.conf.cap.disable_ipv6", "1");
        foreach (var dev in new[] { "in", "out" })
        {
            Ip("link", "set", dev, "addrgenmode", "none");
            Sysctl($"net.ipv6.conf.{dev}.accept_dad", "0");
        }
        Sysctl("net.ipv4.ip_forward", "1");
        Sysctl("net.ipv6.conf.all.forwarding", "1");
        foreach (var c in new[] { "all", "default", "in", "out" })
        {
            Sysctl($"net.ipv4.conf.{c}.rp_filter", "0");
            Sysctl($"net.ipv4.conf.{c}.send_redirects", "0");
        }
        foreach (var dev in new[] { "inj", "in", "cap", "out" })
            Ip("link", "set", dev, "up");
        Ip("addr", "add", "198.19.255.1/30", "dev", "in");
        Ip("addr", "add", "198.19.255.5/30", "dev", "out");
        Ip("neigh", "add", "198.19.255.6", "lladdr", "02:00:00:00:00:99", "dev", "out", "nud", "permanent");
        Ip("neigh", "add", "fe80::99", "lladdr", "02:00:00:00:00:99", "dev", "out", "nud", "permanent");
        Ip("route", "add", "198.18.0.0/15", "via", "198.19.255.6", "dev", "out");
        Ip("-6", "route", "add", "2001:2::/48", "via", "fe80::99", "dev", "out");
    }

    /// <summary>Sets a sysctl through the judge process (for the conntrack ones, which exist once a ruleset
    /// with ct expressions has loaded nf_conntrack into the namespace).</summary>
    public void Sysctl(string name, string value)
    {
        var r = Request(new Dictionary<string, object> { ["op"] = "sysctl", ["name"] = name, ["value"] = value });
        if (!r.GetProperty("ok").GetBoolean())
            Assert.Fail($"sysctl {name}={value} in {Namespace} failed");
    }

    public void Dispose()
    {
        try
        {
            _in.Close();
            if (!_proc.WaitForExit(3000))
                _proc.Kill();
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            _proc.Dispose();
            Cmd.Run("ip", ["netns", "del", Namespace], TimeSpan.FromSeconds(15));
        }
    }
}
