using System.Globalization;
using System.Text.Json;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// End-to-end with the kernel's own SRv6 at both ends of the proxy (<see cref="Srv6Lab"/>): the
/// sender's `encap seg6 mode encap segs PROXY_SID,NEXT_SID` routes carry real ping and UDP
/// sockets' traffic to the proxy SID; sfcproxy pops outer IPv6 + SRH for the VNF and puts them
/// back; the receiver's seg6local End.DX4 / End.DT6 on the next SID decapsulate only what carries
/// a valid SRH with Segments Left 0 to that SID, so the kernel judges every restored header: a
/// wrong one is dropped, the ping goes unanswered, the datagram never reaches its socket.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class Srv6KernelEndToEndTests
{
    private const int Pings = 5;
    private const int Datagrams = 200;
    private const int UdpPort = 7000;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("metadata", false, DisplayName = "kernel seg6 sender and seg6local receiver, metadata key, kernel VNF")]
    [DataRow("header-hash", true, DisplayName = "kernel seg6 sender and seg6local receiver, header-hash key, user-mode TUN VNF")]
    public void KernelSeg6Sender_KernelSeg6localReceiver_PingAndUdpArrive(string keyMode, bool userVnf)
    {
        using var lab = ScenarioLab.Up(TestContext,
            new ScenarioOptions(KeyMode: keyMode, UserVnf: userVnf, IpHops: userVnf ? 2 : 1) { Encapsulations = ["srv6"] });
        lab.PingPlainIp();
        var daemon = lab.StartDaemon(lab.WriteConfig());
        // The sender's UDP checksums stay offloaded: its datagrams cross the veth with partial
        // checksums that the kernel completes before the TUN VNF reads them (docs/sfc-proxy.md:
        // no checksum is keyed). This variant missed every datagram while the key had the checksum.
        Srv6Lab.AddKernelRoutes(lab.Topo);

        var log = new List<string>();
        var failed = new List<string>();
        foreach (var dst in new[] { "198.18.2.1", "2001:2:2::1" })
        {
            var ping = lab.PingFromSender(dst, Pings);
            log.Add($"ping {dst}: exit {ping.ExitCode} {ping.StdOut.Trim()}");
            if (ping.ExitCode != 0)
            {
                failed.Add($"ping {dst}");
            }
            var (udpOk, udp) = Udp(lab, dst);
            log.Add($"udp {dst}: {udp}");
            if (!udpOk)
            {
                failed.Add($"udp {dst}");
            }
        }
        var dx4 = Srv6Lab.RouteCounters(lab.Topo, Srv6Lab.Dx4Sid);
        var dt6 = Srv6Lab.RouteCounters(lab.Topo, Srv6Lab.Dt6Sid);
        var counters = daemon.Counters();
        var vnf = lab.VnfCounters();
        var stopInfo = daemon.Stop(TimeSpan.FromSeconds(15));
        var diagnostics = $"lab {lab.Name}, key mode {keyMode}\n{string.Join('\n', log)}\nreceiver: {dx4.Text}\nreceiver: {dt6.Text}\n" +
                          $"daemon: {string.Join(", ", counters.Where(c => c.Value != 0).Select(c => $"{c.Key}={c.Value}"))}\nVNF: {vnf}\n{stopInfo}";
        lab.Log(diagnostics);

        Assert.IsEmpty(failed, $"every ping through the proxy should be answered, every datagram reach its socket.\n{diagnostics}");
        const int perFamily = Pings + Datagrams;
        Assert.AreEqual((perFamily, 0L), (dx4.Packets, dx4.Errors), $"End.DX4 should take every IPv4 packet, none in error.\n{diagnostics}");
        Assert.AreEqual((perFamily, 0L), (dt6.Packets, dt6.Errors), $"End.DT6 should take every IPv6 packet, none in error.\n{diagnostics}");
        Assert.AreEqual(2 * perFamily, counters.GetValueOrDefault("srv6_popped"), $"srv6_popped.\n{diagnostics}");
        Assert.AreEqual(2 * perFamily, counters.GetValueOrDefault("srv6_restored"), $"srv6_restored.\n{diagnostics}");
        if (userVnf)
        {
            using var c = JsonDocument.Parse(vnf);
            Assert.IsGreaterThanOrEqualTo(2 * perFamily, c.RootElement.GetProperty("tun_vnf").GetProperty("read").GetInt32(),
                $"the TUN VNF should have read every packet.\n{diagnostics}");
        }
        else
        {
            Assert.IsGreaterThanOrEqualTo(2 * Datagrams, EndToEndScenario.ParseIptables(vnf).Accepted,
                $"the kernel VNF's SFCVNF chain should have accepted every datagram.\n{diagnostics}");
        }
        Assert.AreEqual(0, daemon.Process.ExitCode, $"sfcproxy should exit 0 on SIGTERM.\n{diagnostics}");
    }

    /// <summary>udp_probe.py: the receiver's socket bound to <paramref name="dst"/>, the sender's
    /// socket sending to it: all arrived intact, and the receiver's summary line (or why there is none).</summary>
    private static (bool Ok, string Summary) Udp(ScenarioLab lab, string dst)
    {
        using var receiver = lab.Topo.Start(lab.Topo.ReceiverNs, LabEnvironment.Python, LabEnvironment.UdpProbe, "recv",
            "--bind", dst, "--port", UdpPort.ToString(CultureInfo.InvariantCulture),
            "--count", Datagrams.ToString(CultureInfo.InvariantCulture), "--timeout", "10");
        receiver.WaitForLine("READY", TimeSpan.FromSeconds(10), "udp_probe.py recv");
        var send = lab.Topo.Exec(lab.Topo.SenderNs, TimeSpan.FromSeconds(20), LabEnvironment.Python, LabEnvironment.UdpProbe, "send", dst,
            "--port", UdpPort.ToString(CultureInfo.InvariantCulture), "--count", Datagrams.ToString(CultureInfo.InvariantCulture));
        if (send.ExitCode != 0)
        {
            return (false, $"sender failed: {send}");
        }
        if (!receiver.WaitForExit(TimeSpan.FromSeconds(15)))
        {
            return (false, $"receiver did not finish: {receiver.Describe()}");
        }
        return (receiver.ExitCode == 0, receiver.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? "<no output>");
    }
}
