using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using SfcProxy.Dsr;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// Removing a backend (ActiveDsr): out of Maglev at once, slot kept while connection entries name
/// it and its packet counter moves, purged by a sweep after that, re-adding cancels. With the fake
/// datapath and a clock the test moves; DsrEndToEndTests does it with real TCP.
/// </summary>
[TestClass]
public sealed class DsrRemovalTests
{
    private static readonly IPAddress Vip = IPAddress.Parse("198.18.60.10");
    private static readonly IPAddress B1 = IPAddress.Parse("198.18.51.1"), B2 = IPAddress.Parse("198.18.52.1"), B3 = IPAddress.Parse("198.18.53.1");
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);

    private readonly FakeDsrDatapath _datapath = new();
    private readonly ManualClock _clock = new();

    private ActiveDsr Start(params DsrServiceConfig[] services)
    {
        var dsr = new ActiveDsr(_datapath, services.Length > 0 ? services : [Web(B1, B2)], NullLogger<ActiveDsr>.Instance, Idle, _clock);
        dsr.Start();
        return dsr;
    }

    private static DsrServiceConfig Web(params IPAddress[] backends) =>
        new(Vip, 80, 6, backends.Select(b => new DsrBackendConfig(b)).ToList());

    private static uint Id(ActiveDsr dsr, IPAddress a) => dsr.Tables!.Backends.Single(b => b.Address.Equals(a)).BackendId;

    private static bool InMaglev(ActiveDsr dsr, IPAddress a) =>
        dsr.Tables!.Backends.FirstOrDefault(b => b.Address.Equals(a)) is { } b && dsr.Tables.MaglevTables.Values.Any(t => t.Contains(b.BackendId));

    [TestMethod]
    public void RemovedBackendKeepsItsSlotWhileItsFlowsSendPacketsAndIsPurgedWhenIdle()
    {
        var dsr = Start();
        var id = Id(dsr, B1);
        _datapath.Connections[id] = 3;
        _datapath.Connections[Id(dsr, B2)] = 5;
        _datapath.BackendPackets[id] = 1000;

        var result = dsr.RemoveBackend(Vip, 80, 6, B1);

        Assert.IsTrue(result.Applied, result.Error);
        Assert.IsFalse(InMaglev(dsr, B1), "no new flows");
        Assert.AreEqual(id, Id(dsr, B1), "the slot (id, address) stays in the tables");
        Assert.IsFalse(dsr.Services[0].Backends.Any(b => b.Address.Equals(B1)), "no longer configured");
        var removing = dsr.ReadRemoving().Single();
        Assert.AreEqual((B1, id, 3), (removing.Address, removing.BackendId, removing.Flows));

        // Its flows go on: the counter moves, so idle time restarts at every sweep that sees it move.
        for (var i = 1; i <= 3; i++)
        {
            _clock.Now += Idle;
            _datapath.BackendPackets[id] += 10;
            Assert.IsEmpty(dsr.Sweep().Purged, $"sweep {i}: packets moved");
        }
        _clock.Now += Idle - TimeSpan.FromSeconds(1);
        Assert.IsEmpty(dsr.Sweep().Purged, "idle, but not for long enough");
        Assert.HasCount(2, _datapath.Applied, "start, removal: sweeps that purge nothing apply nothing");

        _clock.Now += TimeSpan.FromSeconds(1);
        var swept = dsr.Sweep();

        CollectionAssert.AreEqual(new[] { B1 }, swept.Purged.ToArray());
        Assert.AreEqual(3, swept.ConnectionsDeleted);
        CollectionAssert.AreEqual(new[] { id }, _datapath.DeletedConnections, "only the purged id's entries are deleted");
        Assert.IsFalse(_datapath.Applied[^1].Backends.Any(b => b.BackendId == id), "the datapath clears the purged slot");
        Assert.IsEmpty(dsr.ReadRemoving());
        // The freed id is reused.
        Assert.IsTrue(dsr.AddBackend(Vip, 80, 6, B3, 1).Applied);
        Assert.AreEqual(id, Id(dsr, B3));
    }

    [TestMethod]
    public void RemovedBackendWithoutConnectionEntriesIsPurgedAtTheNextSweep()
    {
        var dsr = Start();
        var id = Id(dsr, B1);

        dsr.RemoveBackend(Vip, 80, 6, B1);
        Assert.AreEqual(0, dsr.ReadRemoving().Single().Flows);
        var swept = dsr.Sweep();

        CollectionAssert.AreEqual(new[] { B1 }, swept.Purged.ToArray());
        Assert.AreEqual(0, swept.ConnectionsDeleted);
        Assert.IsFalse(dsr.Tables!.Backends.Any(b => b.BackendId == id));
    }

    [TestMethod]
    public void AddingARemovingBackendBackKeepsItsIdAndItsFlows()
    {
        var dsr = Start();
        var id = Id(dsr, B1);
        _datapath.Connections[id] = 2;
        dsr.RemoveBackend(Vip, 80, 6, B1);

        var again = dsr.AddBackend(Vip, 80, 6, B1, 2);

        Assert.IsTrue(again.Applied, again.Error);
        Assert.AreEqual(id, Id(dsr, B1));
        Assert.IsTrue(InMaglev(dsr, B1), "new flows again");
        Assert.AreEqual(2u, dsr.Services[0].Backends.Single(b => b.Address.Equals(B1)).Weight);
        Assert.IsEmpty(dsr.ReadRemoving());
        _clock.Now += 10 * Idle;
        Assert.IsEmpty(dsr.Sweep().Purged);
        Assert.IsEmpty(_datapath.DeletedConnections);
    }

    [TestMethod]
    public void ABackendStillInAnotherServiceKeepsItsSlotAndIsNotRemoving()
    {
        var dns = new DsrServiceConfig(Vip, 53, 17, [new DsrBackendConfig(B1)]);
        var dsr = Start(Web(B1, B2), dns);
        var id = Id(dsr, B1);

        dsr.RemoveBackend(Vip, 80, 6, B1);

        Assert.IsEmpty(dsr.ReadRemoving());
        Assert.AreEqual(id, Id(dsr, B1));
        var web = dsr.Tables!.Services.Single(s => s.Port == 80).ServiceId;
        Assert.IsFalse(dsr.Tables.MaglevTables[web].Contains(id), "out of the web service's table");

        // Removed from its last service: now it is removing, from both (no entries: purged by the next sweep).
        _datapath.Connections[id] = 4;
        dsr.RemoveBackend(Vip, 53, 17, B1);
        var removing = dsr.ReadRemoving().Single();
        Assert.AreEqual((B1, id, 4), (removing.Address, removing.BackendId, removing.Flows));
        CollectionAssert.AreEqual(new[] { new DsrServiceKey(Vip, 80, 6), new DsrServiceKey(Vip, 53, 17) }, removing.Services.ToArray());
        Assert.AreEqual("backend 198.18.51.1 is being removed from service 198.18.60.10:80/tcp (add it again to keep it)",
            dsr.SetWeight(Vip, 80, 6, B1, 1).Error);
        _datapath.Connections.Remove(id);
        dsr.Sweep();
        Assert.IsFalse(dsr.Tables!.Backends.Any(b => b.Address.Equals(B1)));
    }

    [TestMethod]
    public void ReAddedToOneServiceItIsNoLongerRemovingButStillOutOfTheOther()
    {
        var dns = new DsrServiceConfig(Vip, 53, 17, [new DsrBackendConfig(B1)]);
        var dsr = Start(Web(B1, B2), dns);
        _datapath.Connections[Id(dsr, B1)] = 1;
        dsr.RemoveBackend(Vip, 80, 6, B1);
        dsr.RemoveBackend(Vip, 53, 17, B1);

        Assert.IsTrue(dsr.AddBackend(Vip, 53, 17, B1, 1).Applied);

        Assert.IsEmpty(dsr.ReadRemoving());
        Assert.IsFalse(dsr.Services.Single(s => s.Port == 80).Backends.Any(b => b.Address.Equals(B1)));
        // Out of the web service again later: removing from both once more when it leaves DNS.
        dsr.RemoveBackend(Vip, 53, 17, B1);
        CollectionAssert.AreEqual(new[] { new DsrServiceKey(Vip, 80, 6), new DsrServiceKey(Vip, 53, 17) }, dsr.ReadRemoving().Single().Services.ToArray());
    }

    [TestMethod]
    public void ChangesToARemovingBackendSayItIsBeingRemoved()
    {
        var dsr = Start();
        _datapath.Connections[Id(dsr, B1)] = 1;
        dsr.RemoveBackend(Vip, 80, 6, B1);

        var weight = dsr.SetWeight(Vip, 80, 6, B1, 3);
        var twice = dsr.RemoveBackend(Vip, 80, 6, B1);

        Assert.IsFalse(weight.Applied);
        Assert.AreEqual("backend 198.18.51.1 is being removed from service 198.18.60.10:80/tcp (add it again to keep it)", weight.Error);
        Assert.AreEqual(weight.Error, twice.Error);
        Assert.HasCount(2, _datapath.Applied);
    }

    [TestMethod]
    public void ARefusedRemovalChangesNothing()
    {
        var dsr = Start();
        _datapath.FailNext = new ArgumentException("refused");

        Assert.IsFalse(dsr.RemoveBackend(Vip, 80, 6, B1).Applied);

        Assert.IsEmpty(dsr.ReadRemoving());
        Assert.IsTrue(InMaglev(dsr, B1));
        Assert.HasCount(2, dsr.Services[0].Backends);
    }

    [TestMethod]
    [Timeout(15_000, CooperativeCancellation = true)]
    public async Task TheLoadBalancerServiceSweepsOnItsOwn()
    {
        var dsr = new ActiveDsr(_datapath, [Web(B1, B2)], NullLogger<ActiveDsr>.Instance, TimeSpan.FromSeconds(1));
        var service = new DsrLoadBalancerService(dsr, NullLogger<DsrLoadBalancerService>.Instance);
        await service.StartAsync(CancellationToken.None);
        try
        {
            dsr.RemoveBackend(Vip, 80, 6, B1);
            Assert.HasCount(1, dsr.ReadRemoving());
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (dsr.ReadRemoving().Count > 0 && waited.Elapsed < TimeSpan.FromSeconds(10))
                await Task.Delay(100);

            Assert.IsEmpty(dsr.ReadRemoving(), "purged by the service's sweep (every second here)");
            Assert.IsFalse(dsr.Tables!.Backends.Any(b => b.Address.Equals(B1)));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [TestMethod]
    public void SweepIntervalIsAQuarterOfTheIdleTimeWithinOneToFifteenSeconds()
    {
        ActiveDsr With(int seconds) => new(_datapath, [Web(B1)], NullLogger<ActiveDsr>.Instance, TimeSpan.FromSeconds(seconds));

        Assert.AreEqual(TimeSpan.FromSeconds(1), With(2).SweepInterval);
        Assert.AreEqual(TimeSpan.FromSeconds(10), With(40).SweepInterval);
        Assert.AreEqual(TimeSpan.FromSeconds(15), With(120).SweepInterval);
    }
}
