using System.Text.Json;
using SfcProxy.Policy;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>What one device has attached: the XDP program (0: none) and the tcx programs and
/// links, as tests/e2e/bpf_hooks.py reports them.</summary>
internal sealed record DeviceHooks(string Device, uint Xdp, uint[] TcxIngress, uint[] TcxEgress, string Raw)
{
    public bool Empty => Xdp == 0 && TcxIngress.Length == 0 && TcxEgress.Length == 0;

    public override string ToString() => Raw;
}

/// <summary>
/// The BPF side of an instance as the kernel sees it, independent of the daemon: its pin
/// directory `&lt;PinRoot&gt;/&lt;Instance&gt;/`, the pinned links in it (`link_xdp_rx@IF`,
/// `link_tc_tx@IF`, `link_meta_mark@IF`) and their prog_id (`bpftool -j link show pinned P`), and
/// which programs a device in a lab namespace really runs.
/// </summary>
internal static class BpfState
{
    public const string DefaultPinRoot = "/sys/fs/bpf/sfcproxy";

    public static string PinDir(string instance, string pinRoot = DefaultPinRoot) => Path.Combine(pinRoot, instance);

    /// <summary>Pin path of the link of <paramref name="program"/> (xdp_rx, tc_tx, meta_mark) on <paramref name="device"/>.</summary>
    public static string LinkPin(string instance, string program, string device, string pinRoot = DefaultPinRoot) =>
        Path.Combine(PinDir(instance, pinRoot), $"link_{program}@{device}");

    /// <summary>The pin directory's entries (names only), or "(no pin directory)": for messages.</summary>
    public static string DescribePins(string instance, string pinRoot = DefaultPinRoot)
    {
        var dir = PinDir(instance, pinRoot);
        return Directory.Exists(dir)
            ? $"{dir}: " + string.Join(", ", Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal))
            : $"{dir}: (no pin directory)";
    }

    /// <summary>prog_id of a pinned link, or null when nothing is pinned there (or it is no link).</summary>
    public static uint? TryLinkProgId(string pinPath, out string raw)
    {
        var r = Cmd.Run("bpftool", ["-j", "link", "show", "pinned", pinPath], TimeSpan.FromSeconds(10));
        raw = r.ExitCode == 0 ? r.StdOut.Trim() : r.ToString();
        if (r.ExitCode != 0)
        {
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(r.StdOut);
            return doc.RootElement.TryGetProperty("prog_id", out var id) ? id.GetUInt32() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>prog_id of a pinned link; fails the test (with the pin directory listing) if there is none.</summary>
    public static uint LinkProgId(string pinPath, string instance, string pinRoot = DefaultPinRoot)
    {
        var id = TryLinkProgId(pinPath, out var raw);
        if (id is null)
        {
            Assert.Fail($"no pinned link at {pinPath} (bpftool -j link show pinned: {raw})\n{DescribePins(instance, pinRoot)}");
        }
        return id.Value;
    }

    /// <summary>What <paramref name="device"/> in namespace <paramref name="ns"/> runs (XDP and tcx).</summary>
    public static DeviceHooks Hooks(LabTopology topo, string ns, string device) => Hooks(ns, device);

    /// <summary>What <paramref name="device"/> in namespace <paramref name="ns"/> runs (XDP and tcx).</summary>
    public static DeviceHooks Hooks(string ns, string device)
    {
        var r = Netns.Exec(ns, TimeSpan.FromSeconds(15), LabEnvironment.Python, LabEnvironment.BpfHooks, device);
        if (r.ExitCode != 0)
        {
            Assert.Fail($"bpf_hooks.py {device} in {ns} failed:\n{r}");
        }
        using var doc = JsonDocument.Parse(r.StdOut);
        var e = doc.RootElement;
        static uint[] Ids(JsonElement a) => [.. a.EnumerateArray().Select(x => x.GetUInt32())];
        return new DeviceHooks(device, e.GetProperty("xdp").GetUInt32(), Ids(e.GetProperty("tcx_ingress")),
            Ids(e.GetProperty("tcx_egress")), r.StdOut.Trim());
    }

    /// <summary>Indexes of the policy datapath's counters (enum pol_counter, bpf/policy/policy_shared.h).</summary>
    public enum PolicyCounter
    {
        AllowedRule = 0,
        AllowedNotEnforced = 1,
        AllowedReply = 2,
        DeniedDefault = 3,
        NotIp = 4,
        Malformed = 5,
        CtCreated = 6,
        CtRevoked = 7,
        NoTables = 8,
        AllowedNd = 9,
        AllowedRelated = 10,
    }

    /// <summary>The policy module's per-CPU counters (pinned map pol_counters in
    /// &lt;PinRoot&gt;/&lt;Instance&gt;-policy/), summed over the CPUs: index -> packets. They are
    /// not in `sfcproxy stats`, so the tests read the pin with `bpftool -j map dump pinned`.</summary>
    public static Dictionary<int, ulong> PolicyCounters(string instance, string pinRoot = DefaultPinRoot)
    {
        var pin = Path.Combine(PinDir(instance + "-policy", pinRoot), PolicyBpfNames.Maps.Counters);
        var r = Cmd.Run("bpftool", ["-j", "map", "dump", "pinned", pin], TimeSpan.FromSeconds(10));
        if (r.ExitCode != 0)
        {
            Assert.Fail($"bpftool map dump pinned {pin} failed:\n{r}\n{DescribePins(instance + "-policy", pinRoot)}");
        }
        using var doc = JsonDocument.Parse(r.StdOut);
        var sums = new Dictionary<int, ulong>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            // With BTF bpftool adds "formatted" {key, values[{cpu, value}]}; without it, hex byte strings.
            var f = e.TryGetProperty("formatted", out var formatted) ? formatted : e;
            var key = f.GetProperty("key") is { ValueKind: JsonValueKind.Number } k ? k.GetInt32() : (int)LittleEndian(f.GetProperty("key"));
            ulong sum = 0;
            foreach (var v in f.GetProperty("values").EnumerateArray())
            {
                var value = v.GetProperty("value");
                sum += value.ValueKind == JsonValueKind.Number ? value.GetUInt64() : LittleEndian(value);
            }
            sums[key] = sum;
        }
        return sums;
    }

    private static ulong LittleEndian(JsonElement hexBytes)
    {
        ulong n = 0;
        var bytes = hexBytes.EnumerateArray().Select(b => Convert.ToByte(b.GetString(), 16)).ToArray();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            n = (n << 8) | bytes[i];
        }
        return n;
    }
}
