using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using SfcProxy.Bpf;
using SfcProxy.Dsr;
using static SfcProxy.Tests.Dsr.DsrEndToEndTests;

namespace SfcProxy.Tests.Dsr;

/// <summary>The namespaces, links, programs and servers of the DSR end-to-end tests (the picture in
/// <see cref="DsrEndToEndTests"/>): the load balancer in process (<see cref="Lb"/>, <see cref="Dsr"/>),
/// or none, for a test that runs the real daemon in <see cref="LbNs"/>.</summary>
internal sealed class DsrLab : IDisposable
{
    private static readonly IPAddress VipAddr = IPAddress.Parse(Vip);
    private static readonly IPAddress B1 = IPAddress.Parse("198.18.51.1"), B2 = IPAddress.Parse("198.18.52.1");
    private readonly List<string> _namespaces = [];
    private readonly List<(string Ns, BpfLink Link)> _links = [];
    private readonly List<Socket> _sockets = [];
    private readonly ConcurrentDictionary<string, int> _lastMss = new();
    private readonly ConcurrentBag<Socket> _accepted = [];
    private readonly TestContext _ctx;
    private readonly string _id = Guid.NewGuid().ToString("N")[..6];
    private BpfObject? _empty;

    private DsrLab(TestContext ctx) => _ctx = ctx;

    public string Client => $"e2c-{_id}";
    public string LbNs => $"e2l-{_id}";
    public string Backend1 => $"e2b1-{_id}";
    public string Backend2 => $"e2b2-{_id}";
    public DsrUnderTest Lb { get; private set; } = null!;
    /// <summary>The host's view: ActiveDsr over the LB's objects, on a clock the test moves.</summary>
    public ActiveDsr Dsr { get; private set; } = null!;
    public ManualClock Clock { get; } = new();
    public DecapUnderTest Decap1 { get; private set; } = null!;
    public DecapUnderTest Decap2 { get; private set; } = null!;

    /// <param name="inProcessLb">false: no load balancer here (the test starts `sfcproxy run` in <see cref="LbNs"/>).</param>
    public static DsrLab Create(TestContext ctx, XdpAttachMode mode, uint mtu = 0, bool inProcessLb = true)
    {
        var lab = new DsrLab(ctx) { Mode = mode };
        try
        {
            lab.Build(mtu, inProcessLb);
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    private void Build(uint mtu, bool inProcessLb)
    {
        var sw = Stopwatch.StartNew();
        if (inProcessLb)
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
        // Native XDP on veth (see the class remarks): redirects land in the peer's NAPI queue,
        // which exists only when the peer has an XDP program or GRO on; the client's locally
        // sent segments must carry full checksums.
        Ethtool(Client, "-K cl gro on");
        if (Mode == XdpAttachMode.Native)
            Ethtool(Client, "-K cl tx off");
        Ethtool(Backend1, "-K upl gro on");
        Ethtool(Backend2, "-K upl gro on");

        Decap1.Objects.SetVips([VipAddr]);
        Decap2.Objects.SetVips([VipAddr]);
        StartServer(Backend1, "backend1", Decap1);
        StartServer(Backend2, "backend2", Decap2);

        if (inProcessLb)
        {
            Lb.Objects.WriteConfig(new DsrSettings(Source: IPAddress.Parse("198.18.50.254"), Mtu: mtu));
            Dsr = new ActiveDsr(Lb.Objects,
                [new DsrServiceConfig(VipAddr, Port, 6, [new(B1), new(B2)]), new DsrServiceConfig(VipAddr, UdpPort, 17, [new(B1), new(B2)])],
                NullLogger<ActiveDsr>.Instance, TimeSpan.FromSeconds(60), Clock);
            Dsr.Start();
            InNamespace(LbNs, () => _links.Add((LbNs, Lb.Objects.AttachXdp("lbc", Mode))));
        }
        if (Mode == XdpAttachMode.Native)
        {
            _empty = BpfObject.Open(Bpf.TestObjects.EmptyXdp, null);
            _empty.Load();
            InNamespace(Client, () => _links.Add((Client, _empty.Program(SfcProxy.Bench.BenchBpfNames.EmptyXdp.Program).AttachXdp(SfcProxy.Net.NetDevice.IfIndex("cl"), XdpAttachMode.Native))));
        }
        _ctx.WriteLine($"lab {_id} up in {sw.ElapsedMilliseconds} ms (XDP {Mode})");
    }

    public XdpAttachMode Mode { get; private init; }

    public IPAddress VipAddress => VipAddr;

    public IPAddress Address(string backend) => backend == "backend1" ? B1 : B2;

    /// <summary>Sets a backend's weight in both services (TCP and UDP).</summary>
    public void SetWeight(string backend, uint weight)
    {
        foreach (var (port, protocol) in Services)
            Check(Dsr.SetWeight(VipAddr, port, protocol, Address(backend), weight));
    }

    /// <summary>Removes a backend from both services.</summary>
    public void Remove(string backend)
    {
        foreach (var (port, protocol) in Services)
            Check(Dsr.RemoveBackend(VipAddr, port, protocol, Address(backend)));
    }

    /// <summary>Adds a backend (weight 1) to both services.</summary>
    public void Add(string backend)
    {
        foreach (var (port, protocol) in Services)
            Check(Dsr.AddBackend(VipAddr, port, protocol, Address(backend), 1));
    }

    private static readonly (ushort Port, byte Protocol)[] Services = [(Port, 6), (UdpPort, 17)];

    private static void Check(DsrChangeResult r) => Assert.IsTrue(r.Applied, r.Error);

    /// <summary>Connects until Maglev picks <paramref name="backend"/> (its name line read); the others are closed.</summary>
    public Socket ConnectTo(string backend)
    {
        for (var i = 0; i < 64; i++)
        {
            var c = Connect();
            if (ReadLine(c) == backend)
                return c;
            c.Dispose();
        }
        throw new InvalidOperationException($"64 connections, none on {backend}");
    }

    /// <summary>Waits (up to 5 s) until the LB's packet counter of a backend stands still for 300 ms.</summary>
    public void WaitUntilBackendQuiet(uint backendId)
    {
        var deadline = Stopwatch.StartNew();
        var last = Lb.Objects.ReadBackendTraffic(backendId).Packets;
        var still = Stopwatch.StartNew();
        while (still.ElapsedMilliseconds < 300)
        {
            Assert.IsLessThan(5000L, deadline.ElapsedMilliseconds, "the backend's packet counter kept moving");
            Thread.Sleep(50);
            var now = Lb.Objects.ReadBackendTraffic(backendId).Packets;
            if (now != last)
                (last, still) = (now, Stopwatch.StartNew());
        }
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
        return $"LB [{(Lb is null ? "daemon" : Moved(Lb.Objects.ReadCounters()))}] backend1 decap [{Moved(Decap1.Objects.ReadCounters())}] backend2 decap [{Moved(Decap2.Objects.ReadCounters())}] {string.Join(", ", links)}";
    }

    /// <summary>A UDP socket of the client; <paramref name="dontFragment"/> false: IP_PMTUDISC_DONT (DF clear).</summary>
    public Socket UdpClient(bool dontFragment)
    {
        Socket? s = null;
        InNamespace(Client, () => s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp));
        _sockets.Add(s!);
        s!.ReceiveTimeout = 1000;
        s.SetRawSocketOption(0, 10, BitConverter.GetBytes(dontFragment ? 2 : 0)); // IP_MTU_DISCOVER: IP_PMTUDISC_DO / _DONT
        s.Connect(new IPEndPoint(VipAddr, UdpPort));
        return s;
    }

    public uint BackendId(string name) => Dsr.Tables!.Backends.Single(b => b.Address.Equals(Address(name))).BackendId;

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
        Socket? udp = null;
        InNamespace(ns, () =>
        {
            udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(VipAddr, UdpPort));
        });
        _sockets.Add(udp!);
        new Thread(() =>
        {
            var buf = new byte[65536];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            try
            {
                while (true)
                {
                    var n = udp!.ReceiveFrom(buf, ref from);
                    udp.SendTo(Encoding.ASCII.GetBytes($"{name} {n}"), from);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        }) { IsBackground = true }.Start();
        var thread = new Thread(() =>
        {
            try
            {
                while (true)
                {
                    var s = listener!.Accept();
                    _accepted.Add(s);
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

    /// <summary>Non-zero IP, ICMP and UDP counters of a namespace (nstat -az --ignore: absolute, since its creation).</summary>
    public IReadOnlyDictionary<string, ulong> Nstat(string ns) =>
        Run("ip", $"netns exec {ns} nstat -az --ignore").Split('\n')
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length >= 2 && f[1] != "0" && (f[0].StartsWith("Ip", StringComparison.Ordinal) || f[0].StartsWith("Icmp", StringComparison.Ordinal) || f[0].StartsWith("Udp", StringComparison.Ordinal)))
            .ToDictionary(f => f[0], f => ulong.Parse(f[1], System.Globalization.CultureInfo.InvariantCulture));

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
        foreach (var s in _sockets.Concat(_accepted))
            Try(s.Dispose);
        foreach (var (ns, link) in _links)
            Try(() => InNamespace(ns, link.Dispose));
        foreach (var ns in _namespaces)
            Try(() => Ip($"netns del {ns}"));
        Try(() => _empty?.Dispose());
        Try(() => Lb?.Dispose());
        Try(() => Decap1?.Dispose());
        Try(() => Decap2?.Dispose());
        if (errors.Count > 0)
            throw new AggregateException("DSR lab cleanup", errors);
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

