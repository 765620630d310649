using System.ComponentModel;
using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// The host reads and writes the datapath's maps through C# mirrors of bpf/sfc/sfc_shared.h.
/// A field added, moved or resized on one side only still compiles on both and silently corrupts
/// the config, the cached stacks or the counters, so this compares the mirrors with the BTF that
/// clang wrote into the objects the host actually loads (what the compiler laid out, not what
/// the header seems to say).
/// </summary>
[TestClass]
public sealed class SharedLayoutTests
{
    /// <summary>The objects that use the shared types; each carries its own copy of the BTF.</summary>
    public static IEnumerable<object[]> Objects => [["xdp_rx"], ["tc_tx"]];

    private static readonly (string C, Type Cs)[] Structs =
    [
        ("sfc_config", typeof(SfcConfig)),
        ("sfc_flow_key", typeof(SfcFlowKey)),
        ("sfc_cache_entry", typeof(SfcCacheEntry)),
        ("sfc_cache_hdr", typeof(SfcCacheHdr)),
        ("sfc_xdp_meta", typeof(SfcXdpMeta)),
        ("sfc_chain_key", typeof(SfcChainKey)),
        ("sfc_latency_hist", typeof(SfcLatencyHist)),
    ];

    /// <summary>
    /// Every shared enum is required: the ones no map or signature names reach BTF through
    /// sfc_btf_anchor() in sfc_maps.h, so a missing one means the anchor was lost.
    /// </summary>
    private static readonly (string C, string Prefix, Type Cs)[] Enums =
    [
        ("sfc_counter", "SFC_CNT_", typeof(Counter)),
        ("sfc_key_mode", "SFC_KEY_", typeof(KeyMode)),
        ("sfc_miss_policy", "SFC_MISS_", typeof(MissPolicy)),
        ("sfc_encap", "SFC_ENCAP_", typeof(Encapsulation)),
        ("sfc_fingerprint", "SFC_FP_", typeof(MetaFingerprint)),
    ];

    /// <summary>The policy objects (policy_shared.h, mirrored in SfcProxy/Policy/PolicySharedTypes.cs).</summary>
    public static IEnumerable<object[]> PolicyObjects => [["policy"], ["policy_xdp"]];

    private static readonly (string C, Type Cs)[] PolicyStructs =
    [
        ("pol_state", typeof(SfcProxy.Policy.PolState)),
        ("pol_lpm_key", typeof(SfcProxy.Policy.PolLpmKey)),
        ("pol_identity", typeof(SfcProxy.Policy.PolIdentity)),
        ("pol_rule_key", typeof(SfcProxy.Policy.PolRuleKey)),
        ("pol_rule", typeof(SfcProxy.Policy.PolRule)),
        ("pol_ct_key", typeof(SfcProxy.Policy.PolCtKey)),
        ("pol_ct_entry", typeof(SfcProxy.Policy.PolCtEntry)),
    ];

    /// <summary>Enums reach BTF through pol_btf_anchor() in policy_maps.h.</summary>
    private static readonly (string C, string Prefix, Type Cs)[] PolicyEnums =
    [
        ("pol_counter", "POL_CNT_", typeof(SfcProxy.Policy.PolicyCounter)),
        ("pol_identity_flag", "POL_F_", typeof(SfcProxy.Policy.PolicyIdentityFlag)),
        ("pol_probe_word", "POL_CB_", typeof(SfcProxy.Policy.PolicyProbeWord)),
    ];

    /// <summary>The DSR load balancer (dsr_shared.h, mirrored in SfcProxy/Dsr/DsrSharedTypes.cs).</summary>
    public static IEnumerable<object[]> DsrObjects => [["dsr_lb"]];

    private static readonly (string C, Type Cs)[] DsrStructs =
    [
        ("dsr_config", typeof(SfcProxy.Dsr.DsrConfig)),
        ("dsr_vip_key", typeof(SfcProxy.Dsr.DsrVipKey)),
        ("dsr_vip6_key", typeof(SfcProxy.Dsr.DsrVip6Key)),
        ("dsr_backend", typeof(SfcProxy.Dsr.DsrBackendEntry)),
        ("dsr_conn_key", typeof(SfcProxy.Dsr.DsrConnKey)),
        ("dsr_conn6_key", typeof(SfcProxy.Dsr.DsrConn6Key)),
        ("dsr_conn", typeof(SfcProxy.Dsr.DsrConn)),
        ("dsr_traffic", typeof(SfcProxy.Dsr.DsrTrafficCounter)),
    ];

    /// <summary>Enums reach BTF through dsr_btf_anchor() in dsr_lb.bpf.c.</summary>
    private static readonly (string C, string Prefix, Type Cs)[] DsrEnums =
    [
        ("dsr_counter", "DSR_CNT_", typeof(SfcProxy.Dsr.DsrCounter)),
        ("dsr_config_flag", "DSR_F_", typeof(SfcProxy.Dsr.DsrConfigFlag)),
        ("dsr_backend_flag", "DSR_BACKEND_F_", typeof(SfcProxy.Dsr.DsrBackendFlag)),
    ];

    private static readonly Dictionary<string, Btf> Cache = [];

    [TestMethod]
    [DynamicData(nameof(DsrObjects))]
    public void DsrStructsMatchTheCSharpMirror(string obj) =>
        Assert.IsEmpty(CompareStructs(obj, DsrStructs), $"{obj}.bpf.o vs DsrSharedTypes.cs:\n{string.Join("\n", CompareStructs(obj, DsrStructs))}");

    [TestMethod]
    [DynamicData(nameof(DsrObjects))]
    public void DsrEnumsMatchTheCSharpMirror(string obj) =>
        Assert.IsEmpty(CompareEnums(obj, DsrEnums), $"{obj}.bpf.o vs DsrSharedTypes.cs:\n{string.Join("\n", CompareEnums(obj, DsrEnums))}");

    [TestMethod]
    [DynamicData(nameof(PolicyObjects))]
    public void PolicyStructsMatchTheCSharpMirror(string obj) =>
        Assert.IsEmpty(CompareStructs(obj, PolicyStructs), $"{obj}.bpf.o vs PolicySharedTypes.cs:\n{string.Join("\n", CompareStructs(obj, PolicyStructs))}");

    [TestMethod]
    [DynamicData(nameof(PolicyObjects))]
    public void PolicyEnumsMatchTheCSharpMirror(string obj) =>
        Assert.IsEmpty(CompareEnums(obj, PolicyEnums), $"{obj}.bpf.o vs PolicySharedTypes.cs:\n{string.Join("\n", CompareEnums(obj, PolicyEnums))}");

    [TestMethod]
    [DynamicData(nameof(Objects))]
    public void StructsMatchTheCSharpMirror(string obj)
    {
        var errors = CompareStructs(obj, Structs);
        Assert.IsEmpty(errors, $"{obj}.bpf.o vs SharedTypes.cs:\n{string.Join("\n", errors)}");
    }

    private static List<string> CompareStructs(string obj, (string C, Type Cs)[] structs)
    {
        var btf = Load(obj);
        var errors = new List<string>();
        foreach (var (cName, cs) in structs)
        {
            if (btf.Struct(cName) is not { } t)
            {
                errors.Add($"struct {cName} is not in the BTF of {obj}.bpf.o");
                continue;
            }
            var size = t.GetProperty("size").GetInt32();
            if (Marshal.SizeOf(cs) != size)
                errors.Add($"{cs.Name}: size {Marshal.SizeOf(cs)}, struct {cName}: {size}");

            var fields = cs.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                .ToDictionary(f => f.Name);
            foreach (var m in t.GetProperty("members").EnumerateArray())
            {
                var member = m.GetProperty("name").GetString()!;
                var bits = m.GetProperty("bits_offset").GetInt32();
                var name = Pascal(member);
                if (!fields.Remove(name, out var field))
                {
                    errors.Add($"{cName}.{member}: {cs.Name} has no field {name}");
                    continue;
                }
                if (bits % 8 != 0)
                {
                    errors.Add($"{cName}.{member} is a bit-field (bit {bits}); the mirror cannot express it");
                    continue;
                }
                var offset = (int)Marshal.OffsetOf(cs, name);
                if (offset != bits / 8)
                    errors.Add($"{cName}.{member}: offset {bits / 8}, {cs.Name}.{name}: {offset}");
                // Offsets and the total size alone would let a field shrink into padding.
                var cSize = btf.SizeOf(m.GetProperty("type_id").GetInt32());
                var csSize = Marshal.SizeOf(field.FieldType);
                if (cSize != csSize)
                    errors.Add($"{cName}.{member}: {cSize} bytes, {cs.Name}.{name}: {csSize}");
            }
            foreach (var extra in fields.Keys)
                errors.Add($"{cs.Name}.{extra} has no member in struct {cName}");
        }
        return errors;
    }

    [TestMethod]
    [DynamicData(nameof(Objects))]
    public void EnumsMatchTheCSharpMirror(string obj)
    {
        var errors = CompareEnums(obj, Enums);
        Assert.IsEmpty(errors, $"{obj}.bpf.o vs SharedTypes.cs:\n{string.Join("\n", errors)}");
    }

    private static List<string> CompareEnums(string obj, (string C, string Prefix, Type Cs)[] enums)
    {
        var btf = Load(obj);
        var errors = new List<string>();
        foreach (var (cName, prefix, cs) in enums)
        {
            if (btf.Enum(cName) is not { } t)
            {
                errors.Add($"enum {cName} is not in the BTF of {obj}.bpf.o (is the BTF anchor, sfc_btf_anchor() or pol_btf_anchor(), gone?)");
                continue;
            }
            // SFC_CNT_RX_POPPED == RxPopped, SFC_CNT__MAX == Max: prefix off, underscores out, any case.
            var csValues = Enum.GetNames(cs).ToDictionary(n => n.ToUpperInvariant(),
                n => (Name: n, Value: Convert.ToInt64(Enum.Parse(cs, n), System.Globalization.CultureInfo.InvariantCulture)));
            foreach (var v in t.GetProperty("values").EnumerateArray())
            {
                var cValue = v.GetProperty("name").GetString()!;
                var value = v.GetProperty("val").GetInt64();
                if (!cValue.StartsWith(prefix, StringComparison.Ordinal))
                {
                    errors.Add($"{cName}: {cValue} lacks the prefix {prefix}");
                    continue;
                }
                var key = cValue[prefix.Length..].Replace("_", "", StringComparison.Ordinal).ToUpperInvariant();
                if (!csValues.Remove(key, out var csValue))
                    errors.Add($"{cName}: {cValue} = {value} has no member in {cs.Name}");
                else if (csValue.Value != value)
                    errors.Add($"{cName}: {cValue} = {value}, {cs.Name}.{csValue.Name} = {csValue.Value}");
            }
            foreach (var extra in csValues.Values)
                errors.Add($"{cs.Name}.{extra.Name} has no value in enum {cName}");
        }
        return errors;
    }

    /// <summary>SFC_MAX_LABELS sizes the arrays the host copies stacks in and out of.</summary>
    [TestMethod]
    [DynamicData(nameof(Objects))]
    public void MaxLabelsMatchesTheCachedStack(string obj)
    {
        var btf = Load(obj);
        var hdr = btf.Struct("sfc_cache_hdr");
        Assert.IsNotNull(hdr, $"union sfc_cache_hdr is not in the BTF of {obj}.bpf.o");
        var labels = hdr.Value.GetProperty("members").EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == "labels");
        var array = btf.Resolve(labels.GetProperty("type_id").GetInt32());
        Assert.AreEqual("ARRAY", array.GetProperty("kind").GetString(), "sfc_cache_hdr.labels is an array");
        Assert.AreEqual(SfcLimits.MaxLabels, array.GetProperty("nr_elems").GetInt32(),
            "SfcLimits.MaxLabels vs the element count of sfc_cache_hdr.labels (SFC_MAX_LABELS)");
    }

    /// <summary>SFC_LAT_BUCKETS sizes the histograms the host sums and renders.</summary>
    [TestMethod]
    [DynamicData(nameof(Objects))]
    public void LatencyBucketsMatchesTheHistogram(string obj)
    {
        var btf = Load(obj);
        var hist = btf.Struct("sfc_latency_hist");
        Assert.IsNotNull(hist, $"struct sfc_latency_hist is not in the BTF of {obj}.bpf.o");
        var buckets = hist.Value.GetProperty("members").EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == "buckets");
        var array = btf.Resolve(buckets.GetProperty("type_id").GetInt32());
        Assert.AreEqual("ARRAY", array.GetProperty("kind").GetString(), "sfc_latency_hist.buckets is an array");
        Assert.AreEqual(SfcLimits.LatencyBuckets, array.GetProperty("nr_elems").GetInt32(),
            "SfcLimits.LatencyBuckets vs the element count of sfc_latency_hist.buckets (SFC_LAT_BUCKETS)");
    }

    /// <summary>PascalCase of a C member: static_label_count -> StaticLabelCount, l4 -> L4.</summary>
    private static string Pascal(string snake) =>
        string.Concat(snake.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));

    private static Btf Load(string obj)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(obj, out var btf))
                Cache[obj] = btf = Btf.Dump(Path.Combine(AppContext.BaseDirectory, "bpf", obj + ".bpf.o"));
            return btf;
        }
    }

    /// <summary>The types of one object as `bpftool -j btf dump file` prints them.</summary>
    private sealed class Btf
    {
        private readonly Dictionary<int, JsonElement> _byId;

        private Btf(JsonDocument doc) =>
            _byId = doc.RootElement.GetProperty("types").EnumerateArray().ToDictionary(t => t.GetProperty("id").GetInt32());

        public static Btf Dump(string path)
        {
            if (!File.Exists(path))
                Assert.Fail($"BPF object {path} is missing (dotnet build compiles bpf/ and copies the objects next to the tests)");
            var bpftool = FindBpftool();
            var psi = new ProcessStartInfo(bpftool, ["-j", "btf", "dump", "file", path])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            Process p;
            try
            {
                p = Process.Start(psi)!;
            }
            catch (Win32Exception e)
            {
                Assert.Fail($"cannot run {bpftool}: {e.Message}");
                throw;
            }
            using (p)
            {
                var stderr = p.StandardError.ReadToEndAsync();
                var json = p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0)
                    Assert.Fail($"bpftool btf dump file {path} failed ({p.ExitCode}): {stderr.Result}");
                return new Btf(JsonDocument.Parse(json));
            }
        }

        /// <summary>bpftool usually lives in sbin, which a test runner's PATH may lack.</summary>
        private static string FindBpftool()
        {
            var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Concat(["/usr/sbin", "/sbin", "/usr/local/sbin"]);
            foreach (var d in dirs)
                if (File.Exists(Path.Combine(d, "bpftool")))
                    return Path.Combine(d, "bpftool");
            Assert.Fail("bpftool is missing: SharedLayoutTests reads the objects' BTF with `bpftool -j btf dump file` (install bpftool)");
            return null!;
        }

        /// <summary>A struct or union (the cache entry's header union is mirrored with explicit offsets).</summary>
        public JsonElement? Struct(string name) => Named("STRUCT", name) ?? Named("UNION", name);

        public JsonElement? Enum(string name) => Named("ENUM", name);

        private JsonElement? Named(string kind, string name)
        {
            foreach (var t in _byId.Values)
                if (t.GetProperty("kind").GetString() == kind && t.GetProperty("name").GetString() == name)
                    return t;
            return null;
        }

        /// <summary>The type behind typedefs and qualifiers.</summary>
        public JsonElement Resolve(int id)
        {
            var t = _byId[id];
            while (t.GetProperty("kind").GetString() is "TYPEDEF" or "CONST" or "VOLATILE" or "RESTRICT" or "TYPE_TAG")
                t = _byId[t.GetProperty("type_id").GetInt32()];
            return t;
        }

        /// <summary>Size in bytes of a member's type (arrays: element size times count).</summary>
        public int SizeOf(int id)
        {
            var t = Resolve(id);
            return t.GetProperty("kind").GetString() == "ARRAY"
                ? SizeOf(t.GetProperty("type_id").GetInt32()) * t.GetProperty("nr_elems").GetInt32()
                : t.GetProperty("size").GetInt32();
        }
    }
}
