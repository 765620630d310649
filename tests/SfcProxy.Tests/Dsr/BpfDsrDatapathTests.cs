using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using SfcProxy.Bpf;
using SfcProxy.Dsr;
using SfcProxy.Net;
using SfcProxy.Tests.Proxy.Datapath;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// The host wiring in the real kernel: <see cref="ActiveDsr"/> over <see cref="BpfDsrDatapath"/> loads
/// dsr_lb, writes the config, applies the Maglev tables, and re-applies them on a backend change;
/// packets go through BPF_PROG_TEST_RUN (not attached).
/// </summary>
[TestClass]
public sealed class BpfDsrDatapathTests
{
    private const uint XdpTx = 3;
    private static readonly byte[] LbMac = [0x02, 0, 0, 0, 0, 0x10];
    private static readonly byte[] ClientMac = [0x02, 0, 0, 0, 0, 0x20];
    private static readonly byte[] NexthopMac = [0x02, 0, 0, 0, 0, 0x30];
    private const string Vip = "198.51.100.10", Client = "203.0.113.5";
    private static readonly IPAddress B1 = IPAddress.Parse("10.1.0.1"), B2 = IPAddress.Parse("10.1.0.2");

    private static byte[] Tcp(ushort sourcePort, byte flags) =>
        Packet.Eth(LbMac, ClientMac).IPv4(Client, Vip, id: 1, ttl: 61, fragOff: 0x4000).Tcp(sourcePort, 80, flags: flags).Payload(8).Build();

    private static IPAddress Backend(BpfDsrDatapath datapath, byte[] frame)
    {
        var (verdict, output) = datapath.Objects.TestRun(frame);
        Assert.AreEqual(XdpTx, verdict);
        return new IPAddress(output.AsSpan(30, 4));
    }

    /// <summary>
    /// A daemon that stops with DetachOnStop false leaves its maps pinned; the next one reads the
    /// services and backend ids in them (IPv4 and IPv6), so its first build keeps them: here the ids
    /// a live addition got, which a fresh build would hand out otherwise.
    /// </summary>
    [TestMethod]
    public void TheNextDaemonReadsTheIdsAnEarlierOneLeftPinnedIpv4AndIpv6()
    {
        BpfEnvironmentCheck.Require();
        var pinName = $"dsrhost-{Guid.NewGuid():N}"[..20];
        var settings = new DsrSettings(Source: IPAddress.Parse("192.0.2.1"), Source6: IPAddress.Parse("2001:2::1"));
        var v6Vip = IPAddress.Parse("2001:2::10");
        DsrServiceConfig[] config =
        [
            new(IPAddress.Parse(Vip), 80, 6, [new(B2)]),
            new(v6Vip, 53, 17, [new(IPAddress.Parse("2001:2::52"))]),
        ];
        DsrTables left;
        using (var first = new BpfDsrDatapath(pinName, BpfPins.DefaultRoot, settings, null, XdpAttachMode.Generic, NullLogger.Instance, detachOnStop: false))
        {
            Assert.IsNull(first.ReadInstalled(), "nothing pinned yet");
            var dsr = new ActiveDsr(first, config, NullLogger<ActiveDsr>.Instance);
            dsr.Start();
            Assert.IsTrue(dsr.AddBackend(IPAddress.Parse(Vip), 80, 6, B1, 1).Applied);
            Assert.IsTrue(dsr.AddBackend(v6Vip, 53, 17, IPAddress.Parse("2001:2::51"), 1).Applied);
            left = dsr.Tables!;
        }
        using var second = new BpfDsrDatapath(pinName, BpfPins.DefaultRoot, settings, null, XdpAttachMode.Generic, NullLogger.Instance);
        var installed = second.ReadInstalled()!;

        CollectionAssert.AreEquivalent(left.Backends.ToList(), installed.Backends.ToList(), "ids and addresses as the first daemon left them");
        CollectionAssert.AreEquivalent(left.Services.ToList(), installed.Services.ToList());
        Assert.AreEqual(3u, installed.Backends.Single(b => b.Address.Equals(B1)).BackendId, "the live addition's id, not the 1 a fresh build gives the lowest address");
    }

    [TestMethod]
    public void AppliesConfigDrainsAndRemovesABackendKeepingItsFlowsUntilThePurge()
    {
        BpfEnvironmentCheck.Require();
        using var datapath = new BpfDsrDatapath($"dsrhost-{Guid.NewGuid():N}"[..20], BpfPins.DefaultRoot,
            new DsrSettings(Source: IPAddress.Parse("10.0.0.1"), Flags: DsrConfigFlag.StaticNexthop, NexthopMac: NexthopMac),
            attachTo: null, XdpAttachMode.Generic, NullLogger.Instance);
        var clock = new ManualClock();
        var idle = TimeSpan.FromSeconds(60);
        var dsr = new ActiveDsr(datapath,
            [new DsrServiceConfig(IPAddress.Parse(Vip), 80, 6, [new DsrBackendConfig(B1), new DsrBackendConfig(B2)])],
            NullLogger<ActiveDsr>.Instance, idle, clock);
        dsr.Start();
        var ids = dsr.Tables!.Backends.ToDictionary(b => b.Address, b => b.BackendId);

        // 200 flows: SYN then ACK (the connection table records them); both backends get some.
        var flows = Enumerable.Range(0, 200).Select(i => (ushort)(20000 + i)).ToList();
        var first = flows.ToDictionary(p => p, p => Backend(datapath, Tcp(p, 0x02)));
        foreach (var p in flows)
            Assert.AreEqual(first[p], Backend(datapath, Tcp(p, 0x10)), "ACK follows its SYN");
        var onB1 = flows.Where(p => first[p].Equals(B1)).ToList();
        Assert.IsTrue(onB1.Count is > 50 and < 150, $"{onB1.Count} of 200 flows on {B1}");
        Assert.AreEqual(200ul, datapath.ReadServiceTraffic(dsr.Tables.Services[0].ServiceId).Packets / 2);
        // Bytes: the client's IPv4 packets (SYN and ACK frames have the same length here).
        ulong ipBytes = (ulong)Tcp(20000, 0x10).Length - 14;
        Assert.AreEqual(400 * ipBytes, datapath.ReadServiceTraffic(dsr.Tables.Services[0].ServiceId).Bytes);
        Assert.AreEqual(datapath.ReadBackendTraffic(ids[B1]).Packets * ipBytes, datapath.ReadBackendTraffic(ids[B1]).Bytes);

        // The metrics read the same kernel counters, at scrape time.
        var options = Microsoft.Extensions.Options.Options.Create(new SfcProxy.Configuration.SfcProxyOptions { Instance = "t" });
        string metrics = new SfcProxy.Metrics.InstanceMetrics(options, [new DsrMetrics(dsr)]).ExportAsync(CancellationToken.None).GetAwaiter().GetResult();
        Assert.Contains($"sfcproxy_dsr_backend_packets_total{{backend=\"{B1}\",instance=\"t\"}} {datapath.ReadBackendTraffic(ids[B1]).Packets}\n", metrics);
        Assert.Contains($"sfcproxy_dsr_service_packets_total{{vip=\"{Vip}\",port=\"80\",protocol=\"tcp\",instance=\"t\"}} 400\n", metrics);
        Assert.Contains($"sfcproxy_dsr_service_bytes_total{{vip=\"{Vip}\",port=\"80\",protocol=\"tcp\",instance=\"t\"}} {400 * ipBytes}\n", metrics);
        Assert.Contains("sfcproxy_dsr_packets_total{outcome=\"tx\",instance=\"t\"} 400\n", metrics);
        Assert.Contains("sfcproxy_dsr_events_total{event=\"conn_new\",instance=\"t\"} 200\n", metrics);

        var drained = dsr.SetWeight(IPAddress.Parse(Vip), 80, 6, B1, 0);

        Assert.IsTrue(drained.Applied, drained.Error);
        Assert.AreEqual(0u, dsr.Services[0].Backends.Single(b => b.Address.Equals(B1)).Weight);
        CollectionAssert.AreEquivalent(ids, dsr.Tables!.Backends.ToDictionary(b => b.Address, b => b.BackendId), "ids stable, drained backend kept");
        foreach (var p in onB1)
            Assert.AreEqual(B1, Backend(datapath, Tcp(p, 0x10)), $"established flow {p} keeps the drained backend");
        foreach (var p in Enumerable.Range(30000, 200).Select(i => (ushort)i))
            Assert.AreEqual(B2, Backend(datapath, Tcp(p, 0x02)), $"new flow {p} avoids the drained backend");
        Assert.IsGreaterThanOrEqualTo((ulong)onB1.Count * 3, datapath.ReadBackendTraffic(ids[B1]).Packets);

        var removed = dsr.RemoveBackend(IPAddress.Parse(Vip), 80, 6, B1);

        // Removing: out of Maglev (it already was), slot kept: its flows still reach it.
        Assert.IsTrue(removed.Applied, removed.Error);
        Assert.AreEqual(ids[B1], dsr.Tables!.Backends.Single(b => b.Address.Equals(B1)).BackendId, "the slot stays");
        Assert.AreEqual(onB1.Count, dsr.ReadRemoving().Single().Flows, "its connection entries, counted in the kernel's table");
        foreach (var p in onB1)
            Assert.AreEqual(B1, Backend(datapath, Tcp(p, 0x10)), $"established flow {p} keeps the removed backend");
        clock.Now += idle;
        Assert.IsEmpty(dsr.Sweep().Purged, "its packet counter moved since the removal");

        // Idle for the whole grace time: purged, its entries deleted, its address cleared.
        clock.Now += idle;
        var swept = dsr.Sweep();

        CollectionAssert.AreEqual(new[] { B1 }, swept.Purged.ToArray());
        Assert.AreEqual(onB1.Count, swept.ConnectionsDeleted);
        Assert.IsFalse(datapath.CountConnections().ContainsKey(ids[B1]), "no entry names the freed id");
        Assert.IsFalse(dsr.Tables!.Backends.Any(b => b.Address.Equals(B1)), "the purged backend leaves the tables");
        Assert.IsTrue(datapath.Objects.Backends.TryLookup(ids[B1], out DsrBackendEntry slot));
        Assert.AreEqual(0u, slot.Addr, "its slot cleared in the datapath");
        Assert.AreEqual(default(DsrTraffic), datapath.ReadBackendTraffic(ids[B1]), "the freed id's counters (packets and bytes) start again from 0");
        foreach (var p in onB1.Take(20))
            Assert.AreEqual(B2, Backend(datapath, Tcp(p, 0x10)), "a flow of a purged backend that comes back falls to Maglev");

        var again = dsr.AddBackend(IPAddress.Parse(Vip), 80, 6, B1, 1);
        Assert.IsTrue(again.Applied, again.Error);
        Assert.IsFalse(dsr.AddBackend(IPAddress.Parse(Vip), 80, 6, B1, 1).Applied, "twice");
        Assert.IsFalse(dsr.SetWeight(IPAddress.Parse(Vip), 81, 6, B1, 1).Applied, "no such service");
    }
}
