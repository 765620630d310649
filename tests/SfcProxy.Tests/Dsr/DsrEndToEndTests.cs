using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using SfcProxy.Bpf;
using SfcProxy.Dsr;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// The DSR load balancer end to end: real programs on real interfaces, real TCP.
/// <code>
///                198.18.50.1/24          198.18.50.254/24
///   client [cl] ─────────────────────── [lbc] lb  (ip_forward=1, dsr_lb XDP on lbc)
///     [cb1] 198.18.53.1/24                [lb1] 198.18.51.254/24 ─── [upl] 198.18.51.1  backend1
///     [cb2] 198.18.54.1/24                [lb2] 198.18.52.254/24 ─── [upl] 198.18.52.1  backend2
///       │                                                                 │
///       └──────── direct links: [cl] 198.18.53.2 backend1, 198.18.54.2 backend2 ┘
/// </code>
/// The client routes the VIP 198.18.60.10 to the LB. The LB encapsulates (IP-in-IP) towards the
/// backend Maglev picks; next hop by bpf_fib_lookup (permanent neighbours in the LB), then
/// bpf_redirect to lb1/lb2. Each backend: dsr_decap at tc ingress of [upl], the VIP on lo, a TCP
/// server bound to VIP:8080 that first sends its name, then echoes; replies to the client leave
/// through the direct link, never through the LB. IPv6 is disabled and all neighbours are
/// permanent, so the LB's interfaces carry nothing but what the test sends: the LB transmitting
/// nothing on lbc and receiving nothing on lb1/lb2 proves no backend -> client packet touches it.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed partial class DsrEndToEndTests
{
    private const string Vip = "198.18.60.10";
    private const ushort Port = 8080;

    public TestContext TestContext { get; set; } = null!;

    /// <summary>
    /// Many connections (distinct source ports) are spread over both backends; every reply comes
    /// straight from a backend; the LB never sees the return traffic. Then draining (weight 0)
    /// keeps an established connection on its backend while new ones go to the other; removing the
    /// backend takes it out of new flows too.
    /// </summary>
    [TestMethod]
    [DataRow(XdpAttachMode.Native)]
    [DataRow(XdpAttachMode.Generic)]
    [Timeout(40_000, CooperativeCancellation = true)]
    public void ConnectionsSpreadOverBackendsRepliesBypassTheLbAndDrainingKeepsEstablishedFlows(XdpAttachMode mode)
    {
        using var lab = DsrLab.Create(TestContext, mode);
        var sw = Stopwatch.StartNew();

        // 1. Spread, direct return.
        var seen = new Dictionary<string, int>();
        for (var i = 0; i < 32; i++)
        {
            using var c = lab.Connect();
            var name = ReadLine(c);
            seen[name] = seen.GetValueOrDefault(name) + 1;
            Assert.AreEqual("ping " + i, Exchange(c, "ping " + i), "echo on connection " + i);
        }
        TestContext.WriteLine($"32 connections: {string.Join(", ", seen.Select(kv => $"{kv.Key} {kv.Value}"))} ({sw.ElapsedMilliseconds} ms)");
        CollectionAssert.AreEquivalent(new[] { "backend1", "backend2" }, seen.Keys.ToArray(), "Maglev spreads flows over both backends");
        lab.AssertLbSawNoReturnTraffic();
        var lbCounters = lab.Lb.Objects.ReadCounters();
        TestContext.WriteLine("LB counters: " + string.Join(", ", lbCounters.Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.AreEqual(0ul, lbCounters[DsrCounter.PassEncap] + lbCounters[DsrCounter.FibFallback] + lbCounters[DsrCounter.Aborted] + lbCounters[DsrCounter.NoBackend]);
        Assert.IsGreaterThan(0ul, lbCounters[DsrCounter.Redirect], "encapsulated packets redirected to the backends' links");
        Assert.IsGreaterThan(0ul, lab.Decap1.Objects.ReadCounters()[DsrDecapCounter.Decapsulated]);
        Assert.IsGreaterThan(0ul, lab.Decap2.Objects.ReadCounters()[DsrDecapCounter.Decapsulated]);
        var (cb1Rx, cb2Rx) = (lab.Stats(lab.Client, "cb1").RxPackets, lab.Stats(lab.Client, "cb2").RxPackets);
        TestContext.WriteLine($"client received on the direct links: cb1 {cb1Rx}, cb2 {cb2Rx} packets; LB lbc tx {lab.Stats(lab.LbNs, "lbc").TxPackets}");
        Assert.IsGreaterThanOrEqualTo((ulong)(3 * seen["backend1"]), cb1Rx, "backend1's replies reach the client directly");
        Assert.IsGreaterThanOrEqualTo((ulong)(3 * seen["backend2"]), cb2Rx, "backend2's replies reach the client directly");

        // 2. Drain the backend of a long-lived connection.
        using var longLived = lab.Connect();
        var x = ReadLine(longLived);
        var other = x == "backend1" ? "backend2" : "backend1";
        Assert.AreEqual("before", Exchange(longLived, "before"));
        lab.Apply(x == "backend1" ? (0u, 1u) : (1u, 0u));
        Assert.AreEqual("draining", Exchange(longLived, "draining"), $"the established connection stays on {x} while it drains");
        for (var i = 0; i < 16; i++)
        {
            using var c = lab.Connect();
            Assert.AreEqual(other, ReadLine(c), $"new connection {i} while {x} drains");
        }
        Assert.AreEqual("still", Exchange(longLived, "still"), $"the established connection still on {x}");
        lab.AssertLbSawNoReturnTraffic();

        // Removed: new flows never reach it. The established flow's backend address is cleared
        // (DsrObjects.Apply), so its packets fall back to Maglev and reach the other backend, which
        // knows no such connection and resets it: removal breaks established connections; drain first.
        lab.Apply(x == "backend1" ? (null, 1u) : (1u, null));
        for (var i = 0; i < 16; i++)
        {
            using var c = lab.Connect();
            Assert.AreEqual(other, ReadLine(c), $"new connection {i} after {x} was removed");
        }
        var broken = Assert.ThrowsExactly<SocketException>(() => Exchange(longLived, "after removal"),
            "a connection on a removed backend is re-balanced to the other backend, which resets it");
        TestContext.WriteLine($"established connection after its backend was removed: {broken.SocketErrorCode}; total {sw.ElapsedMilliseconds} ms");
        Assert.AreEqual(SocketError.ConnectionReset, broken.SocketErrorCode);
    }

    /// <summary>
    /// A small LB MTU (1000): the client's SYN reaches the backend with its MSS clamped to
    /// MTU - 60; a full-sized DF segment from the client gets ICMP fragmentation needed (next-hop
    /// MTU 980) from the LB, the client's kernel learns the path MTU and the data still gets through.
    /// </summary>
    [TestMethod]
    [DataRow(XdpAttachMode.Native)]
    [DataRow(XdpAttachMode.Generic)]
    [Timeout(40_000, CooperativeCancellation = true)]
    public void SmallLbMtuClampsMssAndAnswersTooBigWithIcmp(XdpAttachMode mode)
    {
        using var lab = DsrLab.Create(TestContext, mode, mtu: 1000);
        using var c = lab.Connect();
        var name = ReadLine(c);
        var mss = lab.LastAcceptedMss(name);
        TestContext.WriteLine($"{name}: TCP_MAXSEG on the accepted socket {mss}");
        Assert.IsLessThanOrEqualTo(1000 - 60, mss, "the SYN's MSS was clamped to MTU - 60");

        // The backend's SYN-ACK (not seen by the LB) offers MSS 1460: the client sends 1500-byte
        // DF segments, 1520 once encapsulated.
        var data = new byte[16_000];
        new Random(7).NextBytes(data);
        c.Send(data);
        var back = new byte[data.Length];
        var got = 0;
        try
        {
            while (got < back.Length)
            {
                var n = c.Receive(back, got, back.Length - got, SocketFlags.None);
                Assert.AreNotEqual(0, n, "connection closed early");
                got += n;
            }
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"echo: {e.SocketErrorCode} after {got} bytes; client: {lab.IpIn(lab.Client, $"route get {Vip}").Trim()}; {lab.Diagnostics()}", e);
        }
        CollectionAssert.AreEqual(data, back, "echoed through the smaller path MTU");
        var counters = lab.Lb.Objects.ReadCounters();
        TestContext.WriteLine("LB counters: " + string.Join(", ", counters.Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.IsGreaterThan(0ul, counters[DsrCounter.MssClamped], "the SYN's MSS lowered");
        Assert.IsGreaterThan(0ul, counters[DsrCounter.IcmpTooBig], "ICMP fragmentation needed sent");
        var route = lab.IpIn(lab.Client, $"route get {Vip}");
        TestContext.WriteLine("client: " + route.Trim());
        StringAssert.Contains(route, "mtu 980", "the client learnt the path MTU from the LB's ICMP (type 3 code 4, next-hop MTU 1000 - 20)");
    }

    private static string ReadLine(Socket s)
    {
        var sb = new StringBuilder();
        var b = new byte[1];
        while (true)
        {
            if (s.Receive(b) == 0)
                throw new SocketException((int)SocketError.ConnectionReset);
            if (b[0] == '\n')
                return sb.ToString();
            sb.Append((char)b[0]);
        }
    }

    private static string Exchange(Socket s, string line)
    {
        s.Send(Encoding.ASCII.GetBytes(line + "\n"));
        return ReadLine(s);
    }

    /// <summary>The namespaces, links, programs and servers of the end-to-end test.</summary>
    private sealed class DsrLab : IDisposable
    {
        private static readonly IPAddress VipAddr = IPAddress.Parse(Vip);
        private static readonly IPAddress B1 = IPAddress.Parse("198.18.51.1"), B2 = IPAddress.Parse("198.18.52.1");
        private readonly List<string> _namespaces = [];
        private readonly List<(string Ns, BpfLink Link)> _links = [];
        private readonly List<Socket> _sockets = [];
        private readonly ConcurrentDictionary<string, int> _lastMss = new();
        private readonly TestContext _ctx;
        private readonly string _id = Guid.NewGuid().ToString("N")[..6];
        private DsrTables? _tables;
        private BpfObject? _empty;

        private DsrLab(TestContext ctx) => _ctx = ctx;

        public string Client => $"e2c-{_id}";
        public string LbNs => $"e2l-{_id}";
        public string Backend1 => $"e2b1-{_id}";
        public string Backend2 => $"e2b2-{_id}";
        public DsrUnderTest Lb { get; private set; } = null!;
        public DecapUnderTest Decap1 { get; private set; } = null!;
        public DecapUnderTest Decap2 { get; private set; } = null!;

        public static DsrLab Create(TestContext ctx, XdpAttachMode mode, uint mtu = 0)
        {
            var lab = new DsrLab(ctx) { Mode = mode };
            try
            {
                lab.Build(mtu);
                return lab;
            }
            catch
            {
                lab.Dispose();
                throw;
            }
        }

        private void Build(uint mtu)
        {
            var sw = Stopwatch.StartNew();
            Lb = new DsrUnderTest();
            Decap1 = new DecapUnderTest();
            Decap2 = new DecapUnderTest();
            foreach (var ns in new[] { Client, LbNs, Backend1, Backend2 })
            {
                Ip($"netns add {ns}");
                _namespaces.Add(ns);
                // No IPv6 (no RS/DAD/MLD chatter), no reverse-path filter (replies arrive on the
                // direct links, not on the VIP's route), before any interface exists.
                Sysctl(ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
                    "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
                Ip($"-n {ns} link set dev lo up");
            }
            Veth(Client, "cl", "02:e2:00:00:50:01", "198.18.50.1/24", LbNs, "lbc", "02:e2:00:00:50:fe", "198.18.50.254/24");
            Veth(LbNs, "lb1", "02:e2:00:00:51:fe", "198.18.51.254/24", Backend1, "upl", "02:e2:00:00:51:01", "198.18.51.1/24");
            Veth(LbNs, "lb2", "02:e2:00:00:52:fe", "198.18.52.254/24", Backend2, "upl", "02:e2:00:00:52:01", "198.18.52.1/24");
            Veth(Client, "cb1", "02:e2:00:00:53:01", "198.18.53.1/24", Backend1, "cl", "02:e2:00:00:53:02", "198.18.53.2/24");
            Veth(Client, "cb2", "02:e2:00:00:54:01", "198.18.54.1/24", Backend2, "cl", "02:e2:00:00:54:02", "198.18.54.2/24");

            Ip($"-n {Client} route add {Vip}/32 via 198.18.50.254 dev cl");
            Ip($"-n {Client} neigh replace 198.18.50.254 lladdr 02:e2:00:00:50:fe dev cl nud permanent");
            Sysctl(LbNs, "net.ipv4.ip_forward=1"); // bpf_fib_lookup answers FWD_DISABLED otherwise
            Ip($"-n {LbNs} neigh replace 198.18.51.1 lladdr 02:e2:00:00:51:01 dev lb1 nud permanent");
            Ip($"-n {LbNs} neigh replace 198.18.52.1 lladdr 02:e2:00:00:52:01 dev lb2 nud permanent");
            foreach (var (ns, clientSide, clientMac) in new[] { (Backend1, "198.18.53.1", "02:e2:00:00:53:01"), (Backend2, "198.18.54.1", "02:e2:00:00:54:01") })
            {
                Ip($"-n {ns} addr add {Vip}/32 dev lo");
                Ip($"-n {ns} route add 198.18.50.0/24 via {clientSide} dev cl"); // replies bypass the LB
                Ip($"-n {ns} neigh replace {clientSide} lladdr {clientMac} dev cl nud permanent");
            }
            // Native XDP on veth: XDP_TX and redirects land in the peer's NAPI queue, which exists
            // only when the peer has an XDP program or GRO on.
            Ethtool(Client, "-K cl gro on");
            if (Mode == XdpAttachMode.Native)
                Ethtool(Client, "-K cl tx off");
            Ethtool(Backend1, "-K upl gro on");
            Ethtool(Backend2, "-K upl gro on");

            Decap1.Objects.SetVips([VipAddr]);
            Decap2.Objects.SetVips([VipAddr]);
            StartServer(Backend1, "backend1", Decap1);
            StartServer(Backend2, "backend2", Decap2);

            Lb.Objects.WriteConfig(new DsrSettings(Source: IPAddress.Parse("198.18.50.254"), Mtu: mtu));
            Apply((1, 1));
            InNamespace(LbNs, () => _links.Add((LbNs, Lb.Objects.AttachXdp("lbc", Mode))));
            if (Mode == XdpAttachMode.Native)
            {
                _empty = BpfObject.Open(Bpf.TestObjects.Path("empty_xdp.bpf.o"), null);
                _empty.Load();
                InNamespace(Client, () => _links.Add((Client, _empty.Program("empty_xdp").AttachXdp(SfcProxy.Net.NetDevice.IfIndex("cl"), XdpAttachMode.Native))));
            }
            _ctx.WriteLine($"lab {_id} up in {sw.ElapsedMilliseconds} ms (XDP {Mode})");
        }

        public XdpAttachMode Mode { get; private init; }

        /// <summary>Weights of backend1 and backend2; null: not configured.</summary>
        public void Apply((uint? W1, uint? W2) w)
        {
            var backends = new List<DsrBackendConfig>();
            if (w.W1 is { } w1)
                backends.Add(new DsrBackendConfig(B1, w1));
            if (w.W2 is { } w2)
                backends.Add(new DsrBackendConfig(B2, w2));
            _tables = DsrTableBuilder.Build([new DsrServiceConfig(VipAddr, Port, 6, backends)], _tables);
            Lb.Objects.Apply(_tables);
        }

        public Socket Connect()
        {
            Socket? s = null;
            InNamespace(Client, () => s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
            _sockets.Add(s!);
            s!.ReceiveTimeout = s.SendTimeout = 5000;
            try
            {
                s.Connect(new IPEndPoint(VipAddr, Port));
            }
            catch (SocketException e)
            {
                throw new InvalidOperationException($"connect to the VIP: {e.SocketErrorCode}; {Diagnostics()}", e);
            }
            return s;
        }

        /// <summary>Counters and interface statistics, for failure messages.</summary>
        public string Diagnostics()
        {
            static string Moved<T>(IReadOnlyDictionary<T, ulong> c) where T : notnull =>
                string.Join(" ", c.Where(kv => kv.Value != 0).Select(kv => $"{kv.Key}={kv.Value}"));
            var links = new[] { (Client, "cl"), (LbNs, "lbc"), (LbNs, "lb1"), (LbNs, "lb2"), (Backend1, "upl"), (Backend2, "upl"), (Client, "cb1"), (Client, "cb2") }
                .Select(l => (l, Stats(l.Item1, l.Item2))).Select(x => $"{x.l.Item2}@{x.l.Item1} rx {x.Item2.RxPackets} tx {x.Item2.TxPackets}");
            return $"client {string.Join(" ", Run("ip", $"netns exec {Client} nstat -az").Split('\n').Where(l => l.StartsWith("Icmp", StringComparison.Ordinal) || l.Contains("Csum", StringComparison.Ordinal)).Select(l => string.Join(" ", l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(2))).Where(l => !l.EndsWith(" 0", StringComparison.Ordinal)))} LB [{Moved(Lb.Objects.ReadCounters())}] backend1 decap [{Moved(Decap1.Objects.ReadCounters())}] backend2 decap [{Moved(Decap2.Objects.ReadCounters())}] {string.Join(", ", links)}";
        }

        public int LastAcceptedMss(string backend) => _lastMss[backend];

        private void StartServer(string ns, string name, DecapUnderTest decap)
        {
            Socket? listener = null;
            InNamespace(ns, () =>
            {
                listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                listener.Bind(new IPEndPoint(VipAddr, Port));
                listener.Listen(64);
                _links.Add((ns, decap.Objects.Attach("upl")));
            });
            _sockets.Add(listener!);
            var thread = new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        var s = listener!.Accept();
                        var mss = new byte[4];
                        s.GetRawSocketOption(6, 2, mss); // TCP_MAXSEG
                        _lastMss[name] = BitConverter.ToInt32(mss);
                        new Thread(() => Serve(s, name)) { IsBackground = true }.Start();
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            }) { IsBackground = true };
            thread.Start();
        }

        private static void Serve(Socket s, string name)
        {
            using (s)
            {
                try
                {
                    s.Send(Encoding.ASCII.GetBytes(name + "\n"));
                    var buf = new byte[65536];
                    int n;
                    while ((n = s.Receive(buf)) > 0)
                        s.Send(buf.AsSpan(0, n));
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            }
        }

        public void AssertLbSawNoReturnTraffic()
        {
            var (lbc, lb1, lb2) = (Stats(LbNs, "lbc"), Stats(LbNs, "lb1"), Stats(LbNs, "lb2"));
            _ctx.WriteLine($"LB: lbc rx {lbc.RxPackets} tx {lbc.TxPackets}; lb1 rx {lb1.RxPackets}; lb2 rx {lb2.RxPackets}");
            Assert.AreEqual(0ul, lb1.RxPackets, "the LB received nothing from backend1");
            Assert.AreEqual(0ul, lb2.RxPackets, "the LB received nothing from backend2");
            Assert.AreEqual(0ul, lbc.TxPackets, "the LB sent nothing to the client");
            Assert.IsGreaterThan(0ul, lbc.RxPackets);
        }

        public (ulong RxPackets, ulong TxPackets) Stats(string ns, string dev)
        {
            using var doc = JsonDocument.Parse(IpIn(ns, $"-j -s link show dev {dev}"));
            var stats = doc.RootElement[0].GetProperty("stats64");
            return (stats.GetProperty("rx").GetProperty("packets").GetUInt64(), stats.GetProperty("tx").GetProperty("packets").GetUInt64());
        }

        public string IpIn(string ns, string args) => Ip($"-n {ns} {args}");

        private static void Veth(string nsA, string devA, string macA, string addrA, string nsB, string devB, string macB, string addrB)
        {
            Ip($"-n {nsA} link add {devA} address {macA} type veth peer name {devB} address {macB} netns {nsB}");
            Ip($"-n {nsA} addr add {addrA} dev {devA}");
            Ip($"-n {nsB} addr add {addrB} dev {devB}");
            Ip($"-n {nsA} link set dev {devA} up");
            Ip($"-n {nsB} link set dev {devB} up");
        }

        public void Dispose()
        {
            foreach (var s in _sockets)
                s.Dispose();
            foreach (var (ns, link) in _links)
                InNamespace(ns, link.Dispose);
            foreach (var ns in _namespaces)
                Ip($"netns del {ns}");
            _empty?.Dispose();
            Lb?.Dispose();
            Decap1?.Dispose();
            Decap2?.Dispose();
        }

        private static void Sysctl(string ns, params string[] settings) => Run("ip", $"netns exec {ns} sysctl -qw {string.Join(' ', settings)}");

        private static void Ethtool(string ns, string args) => Run("ip", $"netns exec {ns} ethtool {args}");

        private static string Ip(string args) => Run("ip", args);

        private static string Run(string file, string args)
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = p.StandardOutput.ReadToEnd();
            var err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"`{file} {args}` failed ({p.ExitCode}): {err.Trim()}");
            return output;
        }
    }

    private static void InNamespace(string ns, Action body)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using SafeHandle fd = File.OpenHandle($"/run/netns/{ns}");
                if (setns(fd, 0x40000000) != 0)
                    throw new InvalidOperationException($"setns({ns}) failed: errno {Marshal.GetLastPInvokeError()}");
                body();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(SafeHandle fd, int nstype);
}
