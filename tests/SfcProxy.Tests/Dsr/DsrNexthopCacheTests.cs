using System.Net;
using System.Runtime.InteropServices;
using SfcProxy.Dsr;
using SfcProxy.Net;
using SfcProxy.Tests.Bpf;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// dsr_lb's next-hop cache (dsr_nexthops) through BPF_PROG_TEST_RUN in a throw-away namespace:
/// veth0 10.1.0.254/24 with permanent neighbours, so bpf_fib_lookup succeeds for backends on
/// 10.1.0.0/24. The cache is per CPU, so the packets run on a thread pinned to one CPU.
/// </summary>
[TestClass]
public sealed partial class DsrNexthopCacheTests
{
    private const uint XdpPass = 2, XdpTx = 3;
    private const string Vip = "198.51.100.10", Client = "203.0.113.5", LbSource = "10.0.0.1";
    private const uint Service = 0;
    private static readonly byte[] MacA = [2, 0, 0, 0, 0, 0xaa], MacB = [2, 0, 0, 0, 0, 0xbb], MacC = [2, 0, 0, 0, 0, 0xcc];

    /// <summary>The service sends everything to backend <paramref name="id"/> at <paramref name="address"/>.</summary>
    private static DsrTables Tables(uint id, string address) => new(
        [new DsrService(Service, IPAddress.Parse(Vip), 80, 6)],
        [new DsrBackend(id, IPAddress.Parse(address))],
        new Dictionary<uint, uint[]> { [Service] = Enumerable.Repeat(id, DsrTables.MaglevTableSize).ToArray() });

    private static byte[] Packet(ushort port) =>
        SfcProxy.Net.Packet.Eth([2, 0, 0, 0, 0, 0x10], [2, 0, 0, 0, 0, 0x20]).IPv4(Client, Vip).Tcp(port, 80, flags: 0x10).Payload(16).Build();

    private static DsrSettings Settings(uint maxAgeMs) => new(Source: IPAddress.Parse(LbSource), NexthopMaxAgeMs: maxAgeMs);

    [TestMethod]
    public void FirstPacketLooksUpLaterOnesUseTheCacheUntilTheBound()
    {
        using var net = Network();
        net.IpIn($"neigh replace 10.1.0.1 lladdr 02:00:00:00:00:aa dev {TestNetwork.Veth0} nud permanent");
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Settings(60_000));
        lb.Objects.Apply(Tables(1, "10.1.0.1"));

        OnOneCpu(net, veth0 =>
        {
            AssertSentTo(lb, veth0, MacA, "first packet: from the FIB");
            Assert.AreEqual((1ul, 0ul), Lookups(lb), "one lookup, nothing cached yet");
            AssertSentTo(lb, veth0, MacA, "second packet");
            Assert.AreEqual((1ul, 1ul), Lookups(lb), "second packet from the cache");

            net.IpIn($"neigh replace 10.1.0.1 lladdr 02:00:00:00:00:bb dev {TestNetwork.Veth0} nud permanent");
            AssertSentTo(lb, veth0, MacA, "neighbour changed, entry younger than 60 s: still the cached MAC");
            Assert.AreEqual((1ul, 2ul), Lookups(lb));

            lb.Objects.WriteConfig(Settings(1));
            Thread.Sleep(50); // a few jiffies past the 1 ms bound (bpf_ktime_get_coarse_ns)
            AssertSentTo(lb, veth0, MacB, "entry older than the bound: looked up again, the new MAC");
            Assert.AreEqual(2ul, Lookups(lb).Fib);
        });
    }

    [TestMethod]
    public void FailedLookupsAreNotCached()
    {
        using var net = Network();
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Settings(60_000));
        lb.Objects.Apply(Tables(1, "10.1.0.5")); // on veth0's subnet, no neighbour yet

        OnOneCpu(net, veth0 =>
        {
            for (var i = 0; i < 2; i++)
                Assert.AreEqual(XdpPass, lb.Objects.TestRun(Packet(40000), veth0).Verdict, "no neighbour, no configured next hop: to the stack");
            Assert.AreEqual((2ul, 0ul), Lookups(lb), "each packet asks the FIB again");

            net.IpIn($"neigh replace 10.1.0.5 lladdr 02:00:00:00:00:cc dev {TestNetwork.Veth0} nud permanent");
            AssertSentTo(lb, veth0, MacC, "the neighbour is used as soon as it exists");
            Assert.AreEqual((3ul, 0ul), Lookups(lb));
        });
        var moved = lb.Moved();
        Assert.AreEqual((2ul, 1ul), (moved[DsrCounter.PassEncap], moved[DsrCounter.Tx]));
    }

    [TestMethod]
    public void PurgedAndReusedIdDoesNotUseTheOldEntry()
    {
        using var net = Network();
        net.IpIn($"neigh replace 10.1.0.1 lladdr 02:00:00:00:00:aa dev {TestNetwork.Veth0} nud permanent");
        net.IpIn($"neigh replace 10.1.0.3 lladdr 02:00:00:00:00:cc dev {TestNetwork.Veth0} nud permanent");
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Settings(60_000));
        lb.Objects.Apply(Tables(1, "10.1.0.1"));

        OnOneCpu(net, veth0 =>
        {
            AssertSentTo(lb, veth0, MacA, "id 1 = 10.1.0.1");
            AssertSentTo(lb, veth0, MacA, "from the cache");
            Assert.AreEqual((1ul, 1ul), Lookups(lb));

            // The host purges id 1 (another backend takes the service), then gives id 1 to a new backend.
            lb.Objects.Apply(Tables(2, "10.1.0.3"));
            lb.Objects.Apply(Tables(1, "10.1.0.3"));
            var (verdict, output) = lb.Objects.TestRun(Packet(40001), veth0);
            Assert.AreEqual(XdpTx, verdict);
            Assert.AreEqual("10.1.0.3", new IPAddress(output.AsSpan(30, 4)).ToString());
            CollectionAssert.AreEqual(MacC, output[..6], "the new backend's neighbour, not id 1's cached one");
            Assert.AreEqual((2ul, 1ul), Lookups(lb), "the reused id was looked up again");
        });
    }

    /// <summary>
    /// A route MTU below the configured Mtu: the filling lookup (checked for Mtu, the largest packet
    /// an entry would serve) answers FRAG_NEEDED, so the packet is looked up again with its own
    /// length, as without the cache, and nothing is stored; a packet too big for the route takes the
    /// uncached fallback (here: to the stack), never a cached next hop.
    /// </summary>
    [TestMethod]
    public void RouteMtuBelowTheConfiguredMtuIsNotCached()
    {
        using var net = Network();
        net.IpIn($"route add 10.1.0.7/32 dev {TestNetwork.Veth0} mtu lock 1000"); // locked: bpf_fib_lookup ignores an unlocked route MTU when forwarding
        net.IpIn($"neigh replace 10.1.0.7 lladdr 02:00:00:00:00:aa dev {TestNetwork.Veth0} nud permanent");
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Settings(60_000)); // Mtu 0: 1500
        lb.Objects.Apply(Tables(1, "10.1.0.7"));

        OnOneCpu(net, veth0 =>
        {
            AssertSentTo(lb, veth0, MacA, "small packet: fits the route");
            AssertSentTo(lb, veth0, MacA, "again");
            Assert.AreEqual((4ul, 0ul), Lookups(lb), "two lookups per packet (for Mtu, then its own length), none cached");

            var big = SfcProxy.Net.Packet.Eth([2, 0, 0, 0, 0, 0x10], [2, 0, 0, 0, 0, 0x20]).IPv4(Client, Vip)
                .Tcp(40000, 80, flags: 0x10).Payload(1100).Build();
            Assert.AreEqual(XdpPass, lb.Objects.TestRun(big, veth0).Verdict, "1160 + 20 bytes > route MTU 1000: to the stack as before");
        });
        Assert.AreEqual(1ul, lb.Moved()[DsrCounter.PassEncap]);
    }

    [TestMethod]
    public void ZeroMaxAgeLooksUpEveryPacket()
    {
        using var net = Network();
        net.IpIn($"neigh replace 10.1.0.1 lladdr 02:00:00:00:00:aa dev {TestNetwork.Veth0} nud permanent");
        using var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(Settings(0) with { Flags = DsrConfigFlag.NoNexthopCache });
        lb.Objects.Apply(Tables(1, "10.1.0.1"));

        OnOneCpu(net, veth0 =>
        {
            for (var i = 0; i < 3; i++)
                AssertSentTo(lb, veth0, MacA, $"packet {i}");
            Assert.AreEqual((3ul, 0ul), Lookups(lb));
        });
    }

    /// <summary>veth0 10.1.0.254/24, forwarding on (bpf_fib_lookup answers FWD_DISABLED otherwise).</summary>
    private static TestNetwork Network()
    {
        BpfEnvironmentCheck.Require();
        var net = TestNetwork.Create();
        try
        {
            net.IpIn($"addr add 10.1.0.254/24 dev {TestNetwork.Veth0}");
            using var sysctl = System.Diagnostics.Process.Start("ip", $"netns exec {net.Name} sysctl -qw net.ipv4.ip_forward=1");
            sysctl.WaitForExit();
            Assert.AreEqual(0, sysctl.ExitCode, "sysctl net.ipv4.ip_forward=1");
            return net;
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    private static void AssertSentTo(DsrUnderTest lb, int ifindex, byte[] mac, string what)
    {
        var (verdict, output) = lb.Objects.TestRun(Packet(40000), ifindex);
        Assert.AreEqual(XdpTx, verdict, what);
        CollectionAssert.AreEqual(mac, output[..6], what);
    }

    private static (ulong Fib, ulong Cached) Lookups(DsrUnderTest lb)
    {
        var c = lb.Objects.ReadCounters();
        return (c[DsrCounter.FibLookup], c[DsrCounter.NexthopCached]);
    }

    /// <summary>Runs <paramref name="body"/> (given veth0's ifindex) in the namespace on a thread pinned to CPU 0: the cache is per CPU.</summary>
    private static void OnOneCpu(TestNetwork net, Action<int> body) => net.Run(() =>
    {
        ulong mask = 1;
        Assert.AreEqual(0, sched_setaffinity(0, sizeof(ulong), ref mask), $"sched_setaffinity: errno {Marshal.GetLastPInvokeError()}");
        body(SfcProxy.Net.NetDevice.IfIndex(TestNetwork.Veth0));
    });

    [LibraryImport("libc", SetLastError = true)]
    private static partial int sched_setaffinity(int pid, nint cpusetsize, ref ulong mask);
}
