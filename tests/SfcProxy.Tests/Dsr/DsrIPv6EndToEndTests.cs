using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using SfcProxy.Bpf;
using SfcProxy.Dsr;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// The DSR load balancer over an IPv6 underlay, end to end: real programs on real interfaces, real TCP
/// and UDP, from IPv6 clients to an IPv6 VIP (IPv6-in-IPv6) and from IPv4 clients to an IPv4 VIP whose
/// backend is IPv6 (IPv4-in-IPv6, the migration case).
/// <code>
///   client [cl] 2001:2:80::1, 198.18.80.1 ──── [lbc] lb 2001:2:80::fe, 198.18.80.254 (dsr_lb XDP, generic)
///                                                [lb1] 2001:2:81::fe ──── [upl] 2001:2:81::1 backend (dsr_decap)
///          [cb] 2001:2:83::1, 198.18.83.1 ───────────────────────────── [cl] 2001:2:83::2, 198.18.83.2
/// </code>
/// The client routes both VIPs to the LB; the LB has only an IPv6 route to the backend (the underlay),
/// next hop by bpf_fib_lookup (IPv6, a permanent neighbour). The backend has both VIPs on lo and
/// answers over the direct link. Generic XDP: the native-mode veth conditions are the IPv4 lab's
/// (<see cref="DsrEndToEndTests"/>) and do not depend on the family.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class DsrIPv6EndToEndTests
{
    private const string Vip6 = "2001:2:60::10", Vip4 = "198.18.60.10", Backend = "2001:2:81::1";
    private const ushort TcpPort = 8080, UdpPort = 8081;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void TcpAndUdpReachTheBackendOverIPv6AndRepliesComeFromTheVip()
    {
        using var lab = new Lab(TestContext);

        foreach (var vip in new[] { Vip6, Vip4 })
        {
            for (var i = 0; i < 8; i++)
            {
                using var c = lab.Tcp(vip);
                Assert.AreEqual("backend", ReadLine(c), $"{vip}: the backend answers from the VIP");
                // Full-sized segments: the client's MSS comes from the backend's SYN-ACK (which does not cross the
                // tunnel), so its first ones are too big for it and the client's kernel must take the LB's
                // ICMPv6 packet too big / ICMP fragmentation needed to get the data through.
                var payload = new string('x', 3000) + i;
                c.Send(Encoding.ASCII.GetBytes(payload + "\n"));
                Assert.AreEqual(payload, ReadLine(c), $"{vip}: echo on connection {i}");
            }
            using var u = lab.Udp(vip);
            u.Send(new byte[100]);
            var buf = new byte[64];
            var n = u.Receive(buf);
            Assert.AreEqual("backend 100", Encoding.ASCII.GetString(buf, 0, n), $"{vip}: UDP answered from the VIP");
        }

        var lb = lab.Lb.Objects.ReadCounters();
        var decap = lab.Decap.Objects.ReadCounters();
        TestContext.WriteLine($"LB: {string.Join(" ", lb.Where(kv => kv.Value != 0))}; decap: {string.Join(" ", decap.Where(kv => kv.Value != 0))}");
        Assert.AreEqual(0ul, lb[DsrCounter.Malformed] + lb[DsrCounter.NoBackend] + lb[DsrCounter.Aborted] + lb[DsrCounter.PassEncap]);
        Assert.IsGreaterThanOrEqualTo(2 * (8 * 4 + 1), (long)lb[DsrCounter.Redirect], "every client packet redirected towards the backend over IPv6");
        Assert.AreEqual(lb[DsrCounter.Redirect], decap[DsrDecapCounter.Decapsulated], "and decapsulated there, IPv4 and IPv6 alike");
        Assert.AreEqual(0ul, decap[DsrDecapCounter.Malformed] + decap[DsrDecapCounter.AdjustFailed] + decap[DsrDecapCounter.EcnDropped]);
        Assert.IsGreaterThan(0ul, lb[DsrCounter.MssClamped], "SYNs clamped for the outer IPv6 header");
        Assert.IsGreaterThan(0ul, lb[DsrCounter.IcmpTooBig], "the clients' kernels took the LB's too-big answers (the 3000-byte echoes came back)");
        // A reply through the LB would be forwarded by its stack (forwarding is on there): its
        // forwarding counters judge it, not a packet count of lb1, which neighbour discovery and
        // MLD (unsolicited reports repeat, NUD probes come when an entry goes stale) move at any time.
        var forwarded = lab.Forwarded(lab.LbNs);
        Assert.AreEqual(0ul, forwarded, $"no reply came back through the LB (lb1 rx {lab.RxPackets(lab.LbNs, "lb1", ipv6Only: false)}, chatter at setup {lab.LbNeighbourChatter})");
    }

    private static string ReadLine(Socket s)
    {
        var sb = new StringBuilder();
        var b = new byte[1];
        while (s.Receive(b) == 1 && b[0] != '\n')
            sb.Append((char)b[0]);
        return sb.ToString();
    }

    private sealed class Lab : IDisposable
    {
        private readonly string _id = Guid.NewGuid().ToString("N")[..6];
        private readonly List<string> _namespaces = [];
        private readonly List<(string Ns, BpfLink Link)> _links = [];
        private readonly List<Socket> _sockets = [];
        private readonly TestContext _ctx;

        public Lab(TestContext ctx)
        {
            _ctx = ctx;
            try
            {
                Build();
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public string ClientNs => $"e6c-{_id}";
        public string LbNs => $"e6l-{_id}";
        public string BackendNs => $"e6b-{_id}";
        public DsrUnderTest Lb { get; private set; } = null!;
        public DecapUnderTest Decap { get; private set; } = null!;

        /// <summary>Packets lb1 received before traffic (IPv6 neighbour and multicast chatter at link up).</summary>
        public ulong LbNeighbourChatter { get; private set; }

        private void Build()
        {
            var sw = Stopwatch.StartNew();
            Lb = new DsrUnderTest();
            Decap = new DecapUnderTest();
            foreach (var ns in new[] { ClientNs, LbNs, BackendNs })
            {
                Run("ip", $"netns add {ns}");
                _namespaces.Add(ns);
                // No router solicitations or DAD delays; forwarding on the LB (bpf_fib_lookup answers
                // FWD_DISABLED otherwise); no reverse-path filter for the IPv4 replies on the direct link.
                Sysctl(ns, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.default.router_solicitations=0", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
                Ip($"-n {ns} link set dev lo up");
            }
            Sysctl(LbNs, "net.ipv6.conf.all.forwarding=1");
            Veth(ClientNs, "cl", "02:e6:00:00:80:01", ["2001:2:80::1/64", "198.18.80.1/24"], LbNs, "lbc", "02:e6:00:00:80:fe", ["2001:2:80::fe/64", "198.18.80.254/24"]);
            Veth(LbNs, "lb1", "02:e6:00:00:81:fe", ["2001:2:81::fe/64"], BackendNs, "upl", "02:e6:00:00:81:01", [Backend + "/64"]);
            Veth(ClientNs, "cb", "02:e6:00:00:83:01", ["2001:2:83::1/64", "198.18.83.1/24"], BackendNs, "cl", "02:e6:00:00:83:02", ["2001:2:83::2/64", "198.18.83.2/24"]);

            Ip($"-n {ClientNs} -6 neigh replace 2001:2:80::fe lladdr 02:e6:00:00:80:fe dev cl nud permanent");
            Ip($"-n {ClientNs} neigh replace 198.18.80.254 lladdr 02:e6:00:00:80:fe dev cl nud permanent");
            Ip($"-n {ClientNs} -6 route add {Vip6}/128 via 2001:2:80::fe dev cl");
            Ip($"-n {ClientNs} route add {Vip4}/32 via 198.18.80.254 dev cl");
            Ip($"-n {LbNs} -6 neigh replace {Backend} lladdr 02:e6:00:00:81:01 dev lb1 nud permanent");
            Ip($"-n {BackendNs} addr add {Vip6}/128 dev lo");
            Ip($"-n {BackendNs} addr add {Vip4}/32 dev lo");
            Ip($"-n {BackendNs} -6 neigh replace 2001:2:83::1 lladdr 02:e6:00:00:83:01 dev cl nud permanent");
            Ip($"-n {BackendNs} neigh replace 198.18.83.1 lladdr 02:e6:00:00:83:01 dev cl nud permanent");
            Ip($"-n {BackendNs} -6 route add 2001:2:80::/64 via 2001:2:83::1 dev cl"); // replies bypass the LB
            Ip($"-n {BackendNs} route add 198.18.80.0/24 via 198.18.83.1 dev cl");

            Decap.Objects.SetVips([IPAddress.Parse(Vip6), IPAddress.Parse(Vip4)]);
            StartServers();

            Lb.Objects.WriteConfig(new DsrSettings(Source: IPAddress.Parse("198.18.80.254"), Source6: IPAddress.Parse("2001:2:81::fe")));
            var backend = new DsrBackendConfig(IPAddress.Parse(Backend));
            Lb.Objects.Apply(DsrTableBuilder.Build(
            [
                new DsrServiceConfig(IPAddress.Parse(Vip6), TcpPort, 6, [backend]), new DsrServiceConfig(IPAddress.Parse(Vip6), UdpPort, 17, [backend]),
                new DsrServiceConfig(IPAddress.Parse(Vip4), TcpPort, 6, [backend]), new DsrServiceConfig(IPAddress.Parse(Vip4), UdpPort, 17, [backend]),
            ]));
            InNamespace(LbNs, () => _links.Add((LbNs, Lb.Objects.AttachXdp("lbc", XdpAttachMode.Generic))));
            Thread.Sleep(200); // let link-up chatter (MLD reports) settle before it is counted
            LbNeighbourChatter = RxPackets(LbNs, "lb1", ipv6Only: false);
            _ctx.WriteLine($"IPv6 lab {_id} up in {sw.ElapsedMilliseconds} ms; lb1 chatter {LbNeighbourChatter}");
        }

        public Socket Tcp(string vip)
        {
            var address = IPAddress.Parse(vip);
            Socket? s = null;
            InNamespace(ClientNs, () => s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
            _sockets.Add(s!);
            s!.ReceiveTimeout = s.SendTimeout = 5000;
            s.Connect(new IPEndPoint(address, TcpPort));
            return s;
        }

        public Socket Udp(string vip)
        {
            var address = IPAddress.Parse(vip);
            Socket? s = null;
            InNamespace(ClientNs, () => s = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
            _sockets.Add(s!);
            s!.ReceiveTimeout = 5000;
            s.Connect(new IPEndPoint(address, UdpPort));
            return s;
        }

        /// <summary>IPv4 and IPv6 datagrams the namespace's stack forwarded (nstat, absolute).</summary>
        public ulong Forwarded(string ns) =>
            Run("ip", $"netns exec {ns} nstat -az --ignore").Split('\n')
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length >= 2 && f[0] is "IpForwDatagrams" or "Ip6OutForwDatagrams")
                .Aggregate(0UL, (sum, f) => sum + ulong.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));

        public ulong RxPackets(string ns, string dev, bool ipv6Only)
        {
            using var doc = System.Text.Json.JsonDocument.Parse(Ip($"-n {ns} -j -s link show dev {dev}"));
            return doc.RootElement[0].GetProperty("stats64").GetProperty("rx").GetProperty("packets").GetUInt64();
        }

        /// <summary>A TCP server (name line, then echo) and a UDP one ("backend N") on both VIPs, dual-stack.</summary>
        private void StartServers()
        {
            foreach (var vip in new[] { Vip6, Vip4 })
            {
                var address = IPAddress.Parse(vip);
                Socket? listener = null, udp = null;
                InNamespace(BackendNs, () =>
                {
                    listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                    listener.Bind(new IPEndPoint(address, TcpPort));
                    listener.Listen(16);
                    udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
                    udp.Bind(new IPEndPoint(address, UdpPort));
                });
                _sockets.Add(listener!);
                _sockets.Add(udp!);
                new Thread(() =>
                {
                    try
                    {
                        while (true)
                        {
                            var s = listener!.Accept();
                            _sockets.Add(s);
                            new Thread(() => Echo(s)) { IsBackground = true }.Start();
                        }
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                    }
                }) { IsBackground = true }.Start();
                new Thread(() =>
                {
                    var buf = new byte[65536];
                    EndPoint from = new IPEndPoint(address.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
                    try
                    {
                        while (true)
                        {
                            var n = udp!.ReceiveFrom(buf, ref from);
                            udp.SendTo(Encoding.ASCII.GetBytes($"backend {n}"), from);
                        }
                    }
                    catch (Exception e) when (e is SocketException or ObjectDisposedException)
                    {
                    }
                }) { IsBackground = true }.Start();
            }
            InNamespace(BackendNs, () => _links.Add((BackendNs, Decap.Objects.Attach("upl"))));
        }

        private static void Echo(Socket s)
        {
            try
            {
                s.Send("backend\n"u8);
                var buf = new byte[65536];
                int n;
                while ((n = s.Receive(buf)) > 0)
                    s.Send(buf.AsSpan(0, n));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }

        private static void Veth(string nsA, string devA, string macA, string[] addrsA, string nsB, string devB, string macB, string[] addrsB)
        {
            Ip($"-n {nsA} link add {devA} address {macA} type veth peer name {devB} address {macB} netns {nsB}");
            foreach (var a in addrsA)
                Ip($"-n {nsA} addr add {a} dev {devA}{(a.Contains(':') ? " nodad" : "")}");
            foreach (var a in addrsB)
                Ip($"-n {nsB} addr add {a} dev {devB}{(a.Contains(':') ? " nodad" : "")}");
            Ip($"-n {nsA} link set dev {devA} up");
            Ip($"-n {nsB} link set dev {devB} up");
        }

        public void Dispose()
        {
            var errors = new List<Exception>();
            void Try(Action a)
            {
                try
                {
                    a();
                }
                catch (Exception e)
                {
                    errors.Add(e);
                }
            }
            foreach (var s in _sockets.ToList())
                Try(s.Dispose);
            foreach (var (ns, link) in _links)
                Try(() => InNamespace(ns, link.Dispose));
            foreach (var ns in _namespaces)
                Try(() => Run("ip", $"netns del {ns}"));
            Try(() => Lb?.Dispose());
            Try(() => Decap?.Dispose());
            if (errors.Count > 0)
                throw new AggregateException("IPv6 DSR lab cleanup", errors);
        }

        private static void Sysctl(string ns, params string[] settings) => Run("ip", $"netns exec {ns} sysctl -qw {string.Join(' ', settings)}");

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

    private static void InNamespace(string ns, Action body) => Bpf.TestNetwork.RunIn(ns, body);
}
