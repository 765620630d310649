using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using SfcProxy.Bpf;
using SfcProxy.Dsr;
using SfcProxy.Net;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// dsr_decap on a real backend: two namespaces joined by a veth pair. The client (10.0.0.1) sends
/// its UDP datagram to the VIP already wrapped in an outer IPv4 header 10.0.0.1 -> 10.0.0.2, protocol
/// 4 (built with the packet builder, sent through an IPPROTO_RAW socket), as the load balancer would.
/// The backend (10.0.0.2, VIP 192.0.2.10 on lo, no ipip module, dsr_decap on its veth's ingress)
/// runs a UDP echo server bound to the VIP; the reply must reach the client from the VIP directly.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed partial class DsrDecapNamespaceTests
{
    private const string ClientAddr = "10.0.0.1", BackendAddr = "10.0.0.2", Vip = "192.0.2.10";
    private const ushort ClientPort = 40000, EchoPort = 7;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public void EncapsulatedDatagramToTheVipIsAnsweredDirectlyByTheBackend()
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        string client = $"dsrc-{id}", backend = $"dsrb-{id}";
        using var pinsOwner = new DecapUnderTest();
        var decap = pinsOwner.Objects;
        decap.SetVips([IPAddress.Parse(Vip)]);

        Ip($"netns add {client}");
        try
        {
            Ip($"netns add {backend}");
            try
            {
                Ip($"-n {client} link add vethc type veth peer name vethb netns {backend}");
                Ip($"-n {client} addr add {ClientAddr}/24 dev vethc");
                Ip($"-n {client} link set vethc up");
                Ip($"-n {client} route add {Vip}/32 via {BackendAddr}");
                Ip($"-n {backend} addr add {BackendAddr}/24 dev vethb");
                Ip($"-n {backend} link set vethb up");
                Ip($"-n {backend} link set lo up");
                Ip($"-n {backend} addr add {Vip}/32 dev lo");

                Socket? echo = null, raw = null, reply = null;
                BpfLink? link = null;
                try
                {
                    InNamespace(backend, () =>
                    {
                        echo = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                        echo.Bind(new IPEndPoint(IPAddress.Parse(Vip), EchoPort));
                        link = decap.Attach("vethb");
                    });
                    InNamespace(client, () =>
                    {
                        raw = new Socket(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Raw); // IPPROTO_RAW: we write the outer header
                        reply = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                        reply.Bind(new IPEndPoint(IPAddress.Parse(ClientAddr), ClientPort));
                        reply.ReceiveTimeout = 3000;
                    });

                    var server = Task.Run(() =>
                    {
                        var buf = new byte[2048];
                        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
                        echo!.ReceiveTimeout = 5000;
                        int n = echo.ReceiveFrom(buf, ref from);
                        echo.SendTo(buf.AsSpan(0, n), from);
                        return (IPEndPoint)from;
                    });

                    var payload = "hello through the tunnel"u8.ToArray();
                    raw!.SendTo(Encapsulated(Vip, payload), new IPEndPoint(IPAddress.Parse(BackendAddr), 0));

                    var got = new byte[2048];
                    EndPoint sender = new IPEndPoint(IPAddress.Any, 0);
                    int len = reply!.ReceiveFrom(got, ref sender);
                    CollectionAssert.AreEqual(payload, got[..len], "the echo");
                    Assert.AreEqual(new IPEndPoint(IPAddress.Parse(Vip), EchoPort), sender, "the reply comes from the VIP, straight from the backend");
                    Assert.AreEqual(new IPEndPoint(IPAddress.Parse(ClientAddr), ClientPort), server.Result, "the server saw the client's own address");
                    Assert.AreEqual(1ul, decap.ReadCounters()[DsrDecapCounter.Decapsulated]);

                    // Without the VIP configured the packet is left alone; with no ipip module the
                    // stack cannot take it, so no answer.
                    decap.SetVips([]);
                    raw.SendTo(Encapsulated(Vip, payload), new IPEndPoint(IPAddress.Parse(BackendAddr), 0));
                    Assert.ThrowsExactly<SocketException>(() => reply.ReceiveFrom(got, ref sender), "no VIP, no decapsulation, no answer");
                    Assert.AreEqual(1ul, decap.ReadCounters()[DsrDecapCounter.NotVip]);
                }
                finally
                {
                    echo?.Dispose();
                    raw?.Dispose();
                    reply?.Dispose();
                    if (link is not null)
                        InNamespace(backend, link.Dispose);
                }
            }
            finally
            {
                Ip($"netns del {backend}");
            }
        }
        finally
        {
            Ip($"netns del {client}");
        }
    }

    /// <summary>
    /// A real TCP connection to the VIP: the client's segments are wrapped by a test encapsulator on
    /// its egress (bpf/testing/ipip_encap_test.bpf.c, standing in for the load balancer; route MTU
    /// 1480 so the encapsulated segments fit), dsr_decap unwraps them on the backend, the server
    /// bound to the VIP echoes 1 MiB back straight to the client. Exercises what fixtures cannot:
    /// GSO super-packets and CHECKSUM_PARTIAL segments through the decapsulation.
    /// </summary>
    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void TcpConnectionToTheVipThroughTheTunnelEchoes()
    {
        const ushort port = 8080;
        var id = Guid.NewGuid().ToString("N")[..6];
        string client = $"dsrc-{id}", backend = $"dsrb-{id}";
        using var pinsOwner = new DecapUnderTest();
        var decap = pinsOwner.Objects;
        decap.SetVips([IPAddress.Parse(Vip)]);
        using var encap = BpfObject.Open(Bpf.TestObjects.Path("ipip_encap_test.bpf.o"), null);
        encap.Load();
        var cfg = encap.Map("ipip_test_cfg");
        cfg.Update(0u, new IpipTestCfg { Vip = Be(Vip), Saddr = Be(ClientAddr), Daddr = Be(BackendAddr) });

        Ip($"netns add {client}");
        try
        {
            Ip($"netns add {backend}");
            try
            {
                Ip($"-n {client} link add vethc type veth peer name vethb netns {backend}");
                Ip($"-n {client} addr add {ClientAddr}/24 dev vethc");
                Ip($"-n {client} link set vethc up");
                Ip($"-n {client} route add {Vip}/32 via {BackendAddr} mtu 1480");
                Ip($"-n {backend} addr add {BackendAddr}/24 dev vethb");
                Ip($"-n {backend} link set vethb up");
                Ip($"-n {backend} link set lo up");
                Ip($"-n {backend} addr add {Vip}/32 dev lo");

                Socket? listener = null, conn = null;
                BpfLink? decapLink = null, encapLink = null;
                try
                {
                    InNamespace(backend, () =>
                    {
                        listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                        listener.Bind(new IPEndPoint(IPAddress.Parse(Vip), port));
                        listener.Listen();
                        decapLink = decap.Attach("vethb");
                    });
                    InNamespace(client, () =>
                    {
                        conn = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                        encapLink = encap.Program("ipip_encap_test").AttachTc(SfcProxy.Net.NetDevice.IfIndex("vethc"), TcDirection.Egress);
                    });

                    var server = Task.Run(() =>
                    {
                        using var s = listener!.Accept();
                        var buf = new byte[65536];
                        int n;
                        while ((n = s.Receive(buf)) > 0)
                            s.Send(buf.AsSpan(0, n));
                        return (IPEndPoint)s.RemoteEndPoint!;
                    });

                    conn!.ReceiveTimeout = conn.SendTimeout = 10_000;
                    conn.Connect(new IPEndPoint(IPAddress.Parse(Vip), port));
                    Assert.AreEqual(new IPEndPoint(IPAddress.Parse(Vip), port), conn.RemoteEndPoint);
                    var data = new byte[1 << 20];
                    new Random(5).NextBytes(data);
                    var sender = Task.Run(() =>
                    {
                        conn.Send(data);
                        conn.Shutdown(SocketShutdown.Send);
                    });
                    var back = new MemoryStream();
                    var rbuf = new byte[65536];
                    int r;
                    while ((r = conn.Receive(rbuf)) > 0)
                        back.Write(rbuf, 0, r);
                    sender.Wait();
                    Assert.AreEqual(data.Length, (int)back.Length, "echoed bytes");
                    Assert.IsTrue(data.AsSpan().SequenceEqual(back.ToArray()), "echoed data");
                    Assert.AreEqual(IPAddress.Parse(ClientAddr), server.Result.Address, "the server saw the client's own address");

                    cfg.TryLookup(0u, out IpipTestCfg after);
                    var counters = decap.ReadCounters();
                    TestContext.WriteLine($"client -> VIP: {after.Packets} packets encapsulated for 1 MiB (fewer than 1 MiB / 1440 = 729: GSO super-packets)");
                    Assert.IsGreaterThan(0u, after.Packets, "the client's segments were encapsulated");
                    Assert.AreEqual((ulong)after.Packets, counters[DsrDecapCounter.Decapsulated], "every encapsulated packet decapsulated");
                    Assert.AreEqual(0ul, counters[DsrDecapCounter.AdjustFailed]);
                }
                finally
                {
                    conn?.Dispose();
                    listener?.Dispose();
                    if (decapLink is not null)
                        InNamespace(backend, decapLink.Dispose);
                    if (encapLink is not null)
                        InNamespace(client, encapLink.Dispose);
                }
            }
            finally
            {
                Ip($"netns del {backend}");
            }
        }
        finally
        {
            Ip($"netns del {client}");
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct IpipTestCfg
    {
        public uint Vip, Saddr, Daddr, Packets;
    }

    private static uint Be(string address) => BitConverter.ToUInt32(IPAddress.Parse(address).GetAddressBytes());

    /// <summary>The client's datagram to the VIP inside an outer IPv4 header to the backend
    /// (protocol 4), as the load balancer sends it.</summary>
    private static byte[] Encapsulated(string vip, byte[] payload) =>
        Packet.Eth().IPv4(ClientAddr, BackendAddr, id: 1).IPv4(ClientAddr, vip, id: 2).Udp(ClientPort, EchoPort).Payload(payload).Build()[14..];

    private static void InNamespace(string ns, Action body) => Bpf.TestNetwork.RunIn(ns, body);

    private static void Ip(string args)
    {
        using var p = Process.Start(new ProcessStartInfo("ip", args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        p.StandardOutput.ReadToEnd();
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"`ip {args}` failed ({p.ExitCode}): {err.Trim()}");
    }
}
