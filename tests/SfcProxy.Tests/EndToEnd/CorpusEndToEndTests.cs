using System.Globalization;
using System.Text.Json;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// End-to-end with the real-traffic corpus (issue 11, "the method"; tests/e2e/corpus_traffic.py):
/// QUIC-like UDP (pairs with equal checksums), DNS, NAT-T keepalives, ICMP echoes without data,
/// IPv6 extension headers, fragmented UDP (IPv4 and IPv6), ICMP errors, TCP retransmissions, DF
/// packets too big for the egress once their headers are back, MPLS/NSH TTL rules, and (metadata
/// key) a VNF rule that changes the mark; SR-MPLS and NSH mixed per group of packets through one
/// instance. Each group is one burst that xdp_rx pops whole before the VNF sees any of it
/// (<see cref="ScenarioOptions.BurstCpu"/>), so packets a key could confuse are inside the VNF
/// together. The receiver judges every packet: byte-identical to one packet sent (after the VNF)
/// with that packet's own headers, the datagram of every fragment re-assembled from pieces that
/// all carry its headers, the ICMP error of a too-big packet with the packet's own restored headers
/// and the usable MTU, or a counted verdict; then the daemon's counters must account for every
/// counted verdict, and the counters of issue 11 must be in `stats` (JSON and table) and `metrics`.
/// The egress MTU is 1400 (the too-big shape), the ingress MTU 2000 (room for big headers).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class CorpusEndToEndTests
{
    /// <summary>About this many packets per scenario (whole rounds of the shape set, ~80 each).</summary>
    private const int Packets = 600;
    private const int EgressMtu = 1400;
    private const int XorMarkPort = 5999;

    /// <summary>The counters issue 11 added: every one must be in stats and metrics.</summary>
    private static readonly string[] NewCounters = ["rx_key_conflict", "tx_too_big", "icmp_too_big_sent", "foreign_entry", "frag_joined"];

    public TestContext TestContext { get; set; } = null!;

    /// <summary>Metadata key, kernel VNF with a STATEFUL chain (`-m conntrack --ctstate
    /// NEW,ESTABLISHED -j ACCEPT`): conntrack reassembles the IPv4 and IPv6 fragments and
    /// refragments them on output (IPv6 with a new identification), every piece with the mark of
    /// the datagram; each piece must leave with the datagram's headers, and every fragment after a
    /// datagram's first must have joined its slot (frag_joined = pieces - datagrams). Also in the
    /// proxy namespace: kube-proxy's `ip rule fwmark 0x4000/0x4000` to a blackhole (the default
    /// Metadata:MarkMask must stay clear of it), and a VNF rule that xors a key bit into the mark of
    /// UDP to port 5999 (those must miss, one per burst naming a live neighbour's slot counted
    /// foreign_entry, the neighbours restored).</summary>
    [TestMethod]
    public void Corpus_MetadataKey_StatefulKernelVnf_EveryPacketItsOwnHeadersOrCounted() =>
        EndToEndScenario.Run(TestContext,
            Corpus("metadata", userVnf: false, ipHops: 1, vnf: "stateful",
                topology: ["--stateful-vnf", "--kube-fwmark", "--xor-mark-port", XorMarkPort.ToString(CultureInfo.InvariantCulture)],
                generator: ["--mark-xor-port", XorMarkPort.ToString(CultureInfo.InvariantCulture)]),
            o =>
            {
                AssertCountedVerdicts(o);
                var sent = o.ReceiverInt("fragments_sent");
                var datagrams = o.ReceiverInt("datagrams");
                Assert.IsGreaterThan(0, datagrams, $"the corpus sent no fragmented datagram.\n{o.Diagnostics}");
                Assert.AreEqual<long?>(sent - datagrams, o.Counter("frag_joined"),
                    $"every fragment after its datagram's first should join the datagram's slot (frag_joined = {sent} pieces - {datagrams} datagrams).\n{o.Diagnostics}");
            });

    /// <summary>Header-hash key, kernel VNF (the lab's stateless forwarding chain): fragments
    /// cross as they are, each under its own key; identical packets with the same headers join one
    /// entry (rx_duplicate_key), the same packet with other headers inside the VNF at the same time
    /// is refused (rx_key_conflict), never restored with the other's headers.</summary>
    [TestMethod]
    public void Corpus_HeaderHashKey_KernelVnf_EveryPacketItsOwnHeadersOrCounted() =>
        EndToEndScenario.Run(TestContext, Corpus("header-hash", userVnf: false, ipHops: 1, vnf: "kernel"), AssertHeaderHash);

    /// <summary>Header-hash key, user-mode TUN VNF (tun_vnf.py): two IP hops; NSH next protocol
    /// IPv4/IPv6 only (a TUN carries IP).</summary>
    [TestMethod]
    public void Corpus_HeaderHashKey_UserModeTunVnf_EveryPacketItsOwnHeadersOrCounted() =>
        EndToEndScenario.Run(TestContext,
            Corpus("header-hash", userVnf: true, ipHops: 2, vnf: "tun", generator: ["--nsh-no-ethernet"]), AssertHeaderHash);

    private static ScenarioOptions Corpus(string keyMode, bool userVnf, int ipHops, string vnf,
        IReadOnlyList<string>? topology = null, IReadOnlyList<string>? generator = null) =>
        new(keyMode, userVnf, ipHops)
        {
            Traffic = "corpus_traffic.py",
            Encap = "mixed",
            Encapsulations = ["mpls", "nsh"],
            NshNextHopIsReceiver = true,
            PacketCount = Packets,
            TopologyArgs = ["--egress-mtu", EgressMtu.ToString(CultureInfo.InvariantCulture), "--ingress-mtu", "2000", .. topology ?? []],
            GeneratorArgs = ["--vnf", vnf, "--key-mode", keyMode, "--egress-mtu", EgressMtu.ToString(CultureInfo.InvariantCulture), .. generator ?? []],
            BurstCpu = 0,
            ReceiverTimeoutSeconds = 10,
            CaptureCliViews = true,
        };

    private static void AssertHeaderHash(ScenarioOutcome o)
    {
        AssertCountedVerdicts(o);
        // The corpus only means something if packets a key could confuse were in the VNF together:
        // its identical pairs (retransmitted query, keepalive, TCP segment) must have joined.
        Assert.IsGreaterThan(0L, o.Counter("rx_duplicate_key") ?? 0,
            $"no identical packets were inside the VNF together (rx_duplicate_key 0): the bursts did not reach the VNF as bursts.\n{o.Diagnostics}");
    }

    /// <summary>The daemon's counters account for every counted verdict the receiver saw, and the
    /// counters of issue 11 are in `stats --json`, the `stats` table and `metrics`.</summary>
    private static void AssertCountedVerdicts(ScenarioOutcome o)
    {
        foreach (var name in NewCounters)
        {
            Assert.IsNotNull(o.Counter(name), $"`sfcproxy stats --json` has no {name}.\n{o.Diagnostics}");
            Assert.Contains(name, o.StatsTable ?? "", $"the `sfcproxy stats` table has no {name}:\n{o.StatsTable}");
            Assert.Contains($"sfcproxy_{name}_total{{", o.Metrics ?? "", $"`sfcproxy metrics` has no sfcproxy_{name}_total:\n{o.Metrics}");
        }
        // counters that must at least reach what the receiver saw (a drop it saw must be counted);
        // tx_miss_drop also counts the host's own traffic on the egress (neighbour discovery)
        foreach (var (name, n) in Object(o.Receiver, "must_count"))
        {
            var c = o.Counter(name);
            if (name is "tx_too_big" or "icmp_too_big_sent")
            {
                // nothing else in the corpus is too big: exactly these
                Assert.AreEqual<long?>(n, c, $"{name}: the receiver saw {n} such packets, the proxy counted {c}.\n{o.Diagnostics}");
            }
            else
            {
                Assert.IsGreaterThanOrEqualTo(n, c ?? 0, $"{name}: the receiver saw {n} such packets, the proxy counted only {c}.\n{o.Diagnostics}");
            }
        }
        // packets missing under a counted refusal: exactly the refusals (a refusal of any other
        // packet would have shown as missing)
        var conflicts = Object(o.Receiver, "counted_missing").Where(kv => kv.Name == "rx_key_conflict").Sum(kv => kv.Value);
        Assert.AreEqual<long?>(conflicts, o.Counter("rx_key_conflict"),
            $"rx_key_conflict should count exactly the conflicting packets that did not arrive ({conflicts}).\n{o.Diagnostics}");
    }

    private static IEnumerable<(string Name, long Value)> Object(JsonElement r, string property) =>
        r.TryGetProperty(property, out var obj) && obj.ValueKind == JsonValueKind.Object
            ? obj.EnumerateObject().Select(p => (p.Name, p.Value.GetInt64())).ToList()
            : [];
}
