using System.Diagnostics;
using System.Net;
using SfcProxy.Dsr;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// The DSR state file: what is saved comes back, a save replaces the file whole or not at all (the
/// kernel's own ENOSPC on a tiny tmpfs), and a file that is not a state file is refused by name.
/// </summary>
[TestClass]
public sealed class DsrLiveStoreTests
{
    private static readonly DsrServiceKey Web = new(IPAddress.Parse("198.18.60.10"), 80, 6);
    private static readonly DsrServiceKey Dns = new(IPAddress.Parse("2001:2::10"), 53, 17);
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 6, 0, 0, TimeSpan.Zero);

    private string _dir = null!;

    [TestInitialize]
    public void Init() => _dir = Directory.CreateTempSubdirectory("sfcproxy-dsr-state-").FullName;

    [TestCleanup]
    public void Cleanup() => Directory.Delete(_dir, recursive: true);

    private DsrLiveStore Store(string instance = "lb1") => new(DsrLiveStore.PathFor(_dir, instance), instance);

    private static DsrLiveState Sample() => new(
        [
            new DsrLiveChange(Web, IPAddress.Parse("198.18.51.1"), 0, 1, T0),
            new DsrLiveChange(Web, IPAddress.Parse("198.18.52.1"), null, 2, T0.AddSeconds(1)),
            new DsrLiveChange(Dns, IPAddress.Parse("2001:2::51"), 3, null, T0.AddSeconds(2)),
        ],
        [new DsrSavedRemoval([Web], IPAddress.Parse("198.18.52.1"), T0.AddSeconds(1), T0.AddSeconds(30), 12345)],
        new Dictionary<IPAddress, IReadOnlyList<DsrServiceKey>> { [IPAddress.Parse("198.18.53.1")] = [Web] });

    [TestMethod]
    public void WhatIsSavedComesBackIpv6AddressesIncluded()
    {
        var store = Store();
        Assert.IsNull(store.Load(), "no file: nothing saved");

        store.Save(Sample(), T0);
        var back = store.Load()!;

        CollectionAssert.AreEqual(Sample().Changes.ToList(), back.Changes.ToList());
        var removal = back.Removing.Single();
        Assert.AreEqual((IPAddress.Parse("198.18.52.1"), T0.AddSeconds(1), T0.AddSeconds(30), 12345ul), (removal.Address, removal.Since, removal.LastActive, removal.Packets));
        CollectionAssert.AreEqual(new[] { Web }, removal.Services.ToList());
        CollectionAssert.AreEqual(new[] { Web }, back.RemovedFrom[IPAddress.Parse("198.18.53.1")].ToList());
        Assert.AreEqual(Path.Combine(_dir, "lb1", "dsr-live.json"), store.Path);
        Assert.AreEqual(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.Path), "only root reads the operator's changes");
    }

    /// <summary>A reader holding the old file still reads it whole after a save: the new file was
    /// renamed over it, never written into it.</summary>
    [TestMethod]
    public void SaveReplacesTheFileByRenameNeverInPlace()
    {
        var store = Store();
        store.Save(new DsrLiveState([new DsrLiveChange(Web, IPAddress.Parse("198.18.51.1"), 0, 1, T0)], [], new Dictionary<IPAddress, IReadOnlyList<DsrServiceKey>>()), T0);
        var old = File.ReadAllText(store.Path);
        using var reader = new FileStream(store.Path, FileMode.Open, FileAccess.Read);

        store.Save(Sample(), T0);

        using (var text = new StreamReader(reader))
            Assert.AreEqual(old, text.ReadToEnd(), "the old file, whole, for whoever had it open");
        Assert.AreEqual(3, store.Load()!.Changes.Count, "the name now gives the new file");
        CollectionAssert.AreEqual(new[] { "dsr-live.json" }, Directory.GetFileSystemEntries(Path.GetDirectoryName(store.Path)!).Select(Path.GetFileName).ToArray(),
            "no temporary file left");
    }

    /// <summary>A save the disk refuses (ENOSPC on a one-page tmpfs) fails by name and leaves the
    /// old file as it was, and no temporary file.</summary>
    [TestMethod]
    public void ASaveTheDiskRefusesLeavesTheOldFileWhole()
    {
        var mount = Path.Combine(_dir, "tiny");
        Directory.CreateDirectory(mount);
        Run("mount", $"-t tmpfs -o size=4k,mode=0700 sfcproxy-test {mount}");
        try
        {
            var store = new DsrLiveStore(DsrLiveStore.PathFor(mount, "lb1"), "lb1");
            var small = new DsrLiveState([new DsrLiveChange(Web, IPAddress.Parse("198.18.51.1"), 0, 1, T0)], [], new Dictionary<IPAddress, IReadOnlyList<DsrServiceKey>>());
            store.Save(small, T0);
            var old = File.ReadAllBytes(store.Path);
            var big = new DsrLiveState(Enumerable.Range(1, 200).Select(i => new DsrLiveChange(Web, IPAddress.Parse($"198.18.{i}.1"), 0, 1, T0)).ToList(),
                [], new Dictionary<IPAddress, IReadOnlyList<DsrServiceKey>>());

            var e = Assert.ThrowsExactly<IOException>(() => store.Save(big, T0));

            StringAssert.Contains(e.Message, "space", "the kernel's reason");
            CollectionAssert.AreEqual(old, File.ReadAllBytes(store.Path), "the old file as it was");
            Assert.AreEqual(1, store.Load()!.Changes.Count);
            Assert.HasCount(1, Directory.GetFileSystemEntries(Path.GetDirectoryName(store.Path)!), "no temporary file left");
        }
        finally
        {
            Run("umount", mount);
        }
    }

    [TestMethod]
    [DataRow("{ \"version\": 1, \"instance\": \"lb1\", \"changes\": [", "not valid JSON")]
    [DataRow("", "not valid JSON")]
    [DataRow("null", "empty (null)")]
    [DataRow("{ \"version\": 2, \"instance\": \"lb1\" }", "version 2; this daemon reads version 1")]
    [DataRow("{ \"version\": 1, \"instance\": \"lb9\" }", "written for instance 'lb9', not 'lb1'")]
    [DataRow("{ \"version\": 1, \"instance\": \"lb1\", \"surprise\": 1 }", "not valid JSON")]
    [DataRow("""{ "version": 1, "instance": "lb1", "changes": [ { "vip": "198.18.60.10", "port": 80, "protocol": "tcp", "address": "198.18.51.300", "weight": 0, "configWeight": 1, "at": "2026-11-22T06:00:00Z" } ] }""",
        "changes[0].address '198.18.51.300': not an IP address")]
    [DataRow("""{ "version": 1, "instance": "lb1", "changes": [ { "vip": "198.18.60.10", "port": 80, "protocol": "sctp", "address": "198.18.51.1", "weight": 0, "configWeight": 1, "at": "2026-11-22T06:00:00Z" } ] }""",
        "changes[0].protocol 'sctp': not tcp or udp")]
    [DataRow("""{ "version": 1, "instance": "lb1", "changes": [ { "vip": "198.18.60.10", "port": 80, "protocol": "tcp", "address": "198.18.51.1", "weight": 70000, "configWeight": 1, "at": "2026-11-22T06:00:00Z" } ] }""",
        "changes[0].weight 70000: not 0..65535")]
    [DataRow("""{ "version": 1, "instance": "lb1", "removing": [ { "address": "198.18.51.1", "services": [], "removedAt": "yesterday", "lastActiveAt": "2026-11-22T06:00:00Z", "packets": 0 } ] }""",
        "removing[0].removedAt 'yesterday': not a time")]
    public void AFileThatIsNoStateFileIsRefusedNamingTheFileAndTheReason(string text, string reason)
    {
        var store = Store();
        Directory.CreateDirectory(Path.GetDirectoryName(store.Path)!);
        File.WriteAllText(store.Path, text);

        var e = Assert.ThrowsExactly<DsrStateFileException>(() => store.Load());

        StringAssert.StartsWith(e.Message, $"DSR state file {store.Path}: ");
        StringAssert.Contains(e.Message, reason);
    }

    [TestMethod]
    public void ADirectoryOrAnUnreadableFileIsRefusedByName()
    {
        var store = Store();
        Directory.CreateDirectory(store.Path);
        var e = Assert.ThrowsExactly<DsrStateFileException>(() => store.Load());
        StringAssert.Contains(e.Message, $"{store.Path}: is a directory, not a file");
    }

    [TestMethod]
    public void DeleteRemovesTheFileAndItsEmptyDirectory()
    {
        var store = Store();
        store.Save(Sample(), T0);
        store.Delete();
        Assert.IsFalse(Directory.Exists(Path.GetDirectoryName(store.Path)), "nothing left for an instance with nothing live");
        store.Delete(); // nothing there: nothing to do
    }

    private static void Run(string file, string args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {args}: {err}");
    }
}
