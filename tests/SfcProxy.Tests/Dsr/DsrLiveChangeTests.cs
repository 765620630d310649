using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using SfcProxy.Dsr;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// Live backend changes across a restart and a SIGHUP (ActiveDsr with its state file, the fake
/// datapath): they come back over the ids the kernel holds, a config that says something new for a
/// backend replaces its live change and only that one, a removing backend's deadline is wall-clock
/// time, an unreadable state file stops the start and a state file that cannot be written refuses
/// the change. DsrPersistenceDaemonTests does it with the real daemon and TCP.
/// </summary>
[TestClass]
public sealed class DsrLiveChangeTests
{
    private static readonly IPAddress Vip = IPAddress.Parse("198.18.60.10");
    private static readonly IPAddress B1 = IPAddress.Parse("198.18.51.1"), B2 = IPAddress.Parse("198.18.52.1"), B3 = IPAddress.Parse("198.18.53.1");
    private static readonly DsrServiceKey Web = new(Vip, 80, 6);
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);

    private readonly ManualClock _clock = new();
    private string _dir = null!;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("sfcproxy-dsr-live-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private DsrLiveStore Store => new(DsrLiveStore.PathFor(_dir, "lb1"), "lb1");

    private ActiveDsr Daemon(FakeDsrDatapath datapath, params DsrServiceConfig[] config) =>
        new(datapath, config, NullLogger<ActiveDsr>.Instance, Idle, _clock, Store);

    private static DsrServiceConfig WebOf(params (IPAddress Address, uint Weight)[] backends) =>
        new(Vip, 80, 6, backends.Select(b => new DsrBackendConfig(b.Address, b.Weight)).ToList());

    private static void Check(DsrChangeResult r) => Assert.IsTrue(r.Applied, r.Error);

    private static string Table(ActiveDsr dsr) =>
        string.Join(", ", dsr.Services.Single().Backends.OrderBy(b => b.Address.ToString()).Select(b => $"{b.Address}={b.Weight}"));

    /// <summary>
    /// A drain, a reweight, an addition and a removal come back after a restart (kill -9: the next
    /// daemon reads the file and the maps), with the ids the kernel has: the added backend keeps id 4
    /// although a fresh build would give the lowest address id 1. So the Maglev table is the same and
    /// the connection table's entries still name the same backends.
    /// </summary>
    [TestMethod]
    public void LiveChangesComeBackAfterARestartOverTheIdsTheKernelHolds()
    {
        var config = WebOf((B2, 1), (B3, 1), (IPAddress.Parse("198.18.54.1"), 1));
        var first = new FakeDsrDatapath();
        var dsr = Daemon(first, config);
        dsr.Start();
        Check(dsr.AddBackend(Vip, 80, 6, B1, 2));
        Check(dsr.SetWeight(Vip, 80, 6, B2, 0));
        Check(dsr.SetWeight(Vip, 80, 6, B3, 4));
        first.Connections[dsr.Tables!.Backends.Single(b => b.Address.Equals(IPAddress.Parse("198.18.54.1"))).BackendId] = 2;
        Check(dsr.RemoveBackend(Vip, 80, 6, IPAddress.Parse("198.18.54.1")));
        Assert.AreEqual(4u, dsr.Tables!.Backends.Single(b => b.Address.Equals(B1)).BackendId, "added live: the lowest free id");
        var before = dsr.Tables;
        var removedAt = _clock.Now;
        // Answered, so on disk: what a daemon killed now leaves.
        Assert.HasCount(4, Store.Load()!.Changes);

        _clock.Now += TimeSpan.FromSeconds(5);
        var second = new FakeDsrDatapath { Installed = before };
        second.BackendPackets[3] = first.ReadBackendTraffic(3).Packets;
        var next = Daemon(second, config);
        next.Start();

        Assert.AreEqual(Table(dsr), Table(next), "the live table");
        CollectionAssert.AreEqual(before.Backends.ToList(), next.Tables!.Backends.ToList(), "every backend keeps its id (the removing one too)");
        CollectionAssert.AreEqual(before.MaglevTables.Single().Value, next.Tables.MaglevTables.Single().Value, "the same Maglev table");
        var removing = next.ReadRemoving().Single();
        Assert.AreEqual((IPAddress.Parse("198.18.54.1"), 3u, removedAt), (removing.Address, removing.BackendId, removing.Since));
        Assert.HasCount(4, next.LiveChanges);

        // Without the kernel's ids (nothing pinned) the same table gets other ids: what the restart must not do.
        var fresh = Daemon(new FakeDsrDatapath(), config);
        fresh.Start();
        Assert.AreEqual(1u, fresh.Tables!.Backends.Single(b => b.Address.Equals(B1)).BackendId);
    }

    /// <summary>The rule, per (service, backend): a config that says something new for a backend
    /// (here B1's weight, written in to make the drain permanent or not) replaces its live change;
    /// the other live changes stay on top.</summary>
    [TestMethod]
    public void AConfigThatSaysSomethingNewForABackendReplacesItsLiveChangeOnly()
    {
        var dsr = Daemon(new FakeDsrDatapath(), WebOf((B1, 1), (B2, 1), (B3, 1)));
        dsr.Start();
        Check(dsr.SetWeight(Vip, 80, 6, B1, 0));
        Check(dsr.SetWeight(Vip, 80, 6, B2, 5));

        var (unchanged, error) = dsr.Reconfigure([WebOf((B1, 1), (B2, 1), (B3, 1))]);
        Assert.IsNull(error);
        Assert.IsEmpty(unchanged, "the file says what it said: a reload keeps every live change");
        Assert.AreEqual($"{B1}=0, {B2}=5, {B3}=1", Table(dsr));

        var (replaced, _) = dsr.Reconfigure([WebOf((B1, 0), (B2, 1), (B3, 2))]);

        Assert.AreEqual(B1, replaced.Single().Change.Address, "B1's drain written into the file: the config's word now");
        Assert.AreEqual($"{B1}=0, {B2}=5, {B3}=2", Table(dsr), "B2's live weight stays on top; B3 follows the file");
        Assert.AreEqual((Web, B2, (uint?)5, (uint?)1), (dsr.LiveChanges.Single().Service, dsr.LiveChanges.Single().Address, dsr.LiveChanges.Single().Weight, dsr.LiveChanges.Single().ConfigWeight));
        Assert.HasCount(1, Store.Load()!.Changes, "the file follows");

        Check(dsr.SetWeight(Vip, 80, 6, B2, 1));
        Assert.IsEmpty(dsr.LiveChanges, "set back to what the config says: nothing live");
        Assert.IsFalse(File.Exists(Store.Path), "and no state file");
    }

    /// <summary>A live change of a service the config no longer has is dropped at start (logged), not fatal.</summary>
    [TestMethod]
    public void ALiveChangeOfAServiceNoLongerConfiguredIsDroppedAtStart()
    {
        var dsr = Daemon(new FakeDsrDatapath(), WebOf((B1, 1), (B2, 1)), new DsrServiceConfig(Vip, 53, 17, [new(B1), new(B2)]));
        dsr.Start();
        Check(dsr.SetWeight(Vip, 53, 17, B1, 0));
        Check(dsr.SetWeight(Vip, 80, 6, B2, 0));

        var next = Daemon(new FakeDsrDatapath(), WebOf((B1, 1), (B2, 1)));
        next.Start();

        Assert.AreEqual($"{B1}=1, {B2}=0", Table(next), "the web service's drain holds");
        Assert.AreEqual(Web, next.LiveChanges.Single().Service);
        Assert.AreEqual(Web, Store.Load()!.Changes.Single().Service, "the dropped change is gone from the file too");
    }

    [TestMethod]
    public void AnUnreadableStateFileStopsTheStartBeforeAnythingIsApplied()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Store.Path)!);
        File.WriteAllText(Store.Path, "{ \"version\": 1, \"instance\": \"lb1\", \"changes\": [ { \"vip\": ");
        var datapath = new FakeDsrDatapath();
        var dsr = Daemon(datapath, WebOf((B1, 1)));

        var e = Assert.ThrowsExactly<DsrStateFileException>(dsr.Start);

        StringAssert.Contains(e.Message, Store.Path);
        Assert.IsEmpty(datapath.Applied, "nothing applied: the drains the file keeps are not undone");
        Assert.IsTrue(File.Exists(Store.Path), "the file is left for the operator");
    }

    /// <summary>A state file that cannot be written: the change is refused, naming the file, and
    /// nothing changed (not the datapath, not the table).</summary>
    [TestMethod]
    public void AChangeWhoseStateCannotBeSavedIsRefusedAndChangesNothing()
    {
        File.WriteAllText(Path.Combine(_dir, "lb1"), "a file where the instance's directory should be");
        var datapath = new FakeDsrDatapath();
        var dsr = Daemon(datapath, WebOf((B1, 1), (B2, 1)));
        dsr.Start();

        var r = dsr.SetWeight(Vip, 80, 6, B1, 0);

        Assert.IsFalse(r.Applied);
        StringAssert.Contains(r.Error, $"the state file {Store.Path} could not be written");
        Assert.HasCount(1, datapath.Applied, "only the start's tables");
        Assert.AreEqual($"{B1}=1, {B2}=1", Table(dsr));
        Assert.IsEmpty(dsr.LiveChanges);
    }

    /// <summary>A removing backend's idle deadline is wall-clock time: a restart does not start it
    /// again, unless its packet counter moved while no daemon ran (the datapath outlives it).</summary>
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void ARemovingBackendsIdleDeadlineSurvivesARestart(bool trafficWhileDown)
    {
        var config = WebOf((B1, 1), (B2, 1));
        var first = new FakeDsrDatapath();
        var dsr = Daemon(first, config);
        dsr.Start();
        var id = dsr.Tables!.Backends.Single(b => b.Address.Equals(B1)).BackendId;
        first.Connections[id] = 1;
        first.BackendPackets[id] = 500;
        Check(dsr.RemoveBackend(Vip, 80, 6, B1));
        var removedAt = _clock.Now;

        _clock.Now += TimeSpan.FromSeconds(40);
        var second = new FakeDsrDatapath { Installed = dsr.Tables };
        second.Connections[id] = 1;
        second.BackendPackets[id] = trafficWhileDown ? 600ul : 500ul;
        var next = Daemon(second, config);
        next.Start();
        var restartedAt = _clock.Now;

        _clock.Now = removedAt + Idle;
        var swept = next.Sweep();
        if (!trafficWhileDown)
        {
            CollectionAssert.AreEqual(new[] { B1 }, swept.Purged.ToArray(), "idle since its removal, before the restart: purged on time");
            Assert.IsEmpty(Store.Load()!.Removing, "the file follows the purge");
            Assert.IsNull(Store.Load()!.Changes.Single().Weight, "B1 stays out of the service the config lists it in");
        }
        else
        {
            Assert.IsEmpty(swept.Purged, "packets while no daemon ran: active at the restart");
            Assert.AreEqual(restartedAt, next.ReadRemoving().Single().LastActive);
            _clock.Now = restartedAt + Idle;
            CollectionAssert.AreEqual(new[] { B1 }, next.Sweep().Purged.ToArray());
        }
    }
}
