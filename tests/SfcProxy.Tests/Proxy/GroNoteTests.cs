using SfcProxy.Proxy;

namespace SfcProxy.Tests.Proxy;

/// <summary>The GRO note names its interfaces, is never read or written through a symlink, and is put
/// back byte for byte by a rollback.</summary>
[TestClass]
public sealed class GroNoteTests
{
    private string _dir = null!;

    [TestInitialize]
    public void MakeDirectory() => _dir = Directory.CreateTempSubdirectory("sfcproxy-gronote-").FullName;

    [TestCleanup]
    public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void WrittenNotesNameTheirInterfacesAndReadBack()
    {
        var path = Path.Combine(_dir, "edge1.gro");
        GroNote.Write(path, "edge1", ["eth1", "eth2"]);

        var note = GroNote.Read(path);
        CollectionAssert.AreEqual(new[] { "eth1", "eth2" }, note!.Interfaces.ToArray());
        Assert.IsNull(note.Problem);
        StringAssert.Contains(File.ReadAllText(path), "sfcproxy detach --instance edge1");
        Assert.HasCount(1, Directory.GetFileSystemEntries(_dir), "no temporary file is left beside the note");

        GroNote.Write(path, "edge1", []);
        Assert.IsNull(GroNote.Read(path), "a note naming nothing is removed");
    }

    [TestMethod]
    public void ASymlinkIsNeitherFollowedOnReadNorWrittenThrough()
    {
        var victim = Path.Combine(_dir, "victim");
        File.WriteAllText(victim, "eth9\n");
        var path = Path.Combine(_dir, "edge1.gro");
        File.CreateSymbolicLink(path, victim);

        var found = GroNote.Read(path);
        Assert.IsEmpty(found!.Interfaces);
        StringAssert.Contains(found.Problem, "symlink");

        GroNote.Write(path, "edge1", ["eth1"]);
        Assert.AreEqual("eth9\n", File.ReadAllText(victim));
        Assert.IsNull(new FileInfo(path).LinkTarget, "the symlink was replaced, not followed");
        CollectionAssert.AreEqual(new[] { "eth1" }, GroNote.Read(path)!.Interfaces.ToArray());
    }

    [TestMethod]
    public void GarbageAndAnOlderDaemonsNoteAreToldApart()
    {
        var path = Path.Combine(_dir, "edge1.gro");
        File.WriteAllText(path, "eth1 && rm -rf /\n");
        StringAssert.Contains(GroNote.Read(path)!.Problem, "not an interface name");

        File.WriteAllText(path, "on");
        var legacy = GroNote.Read(path)!;
        Assert.IsTrue(legacy.LegacyIngressOn);
        Assert.IsNull(legacy.Problem);
    }

    [TestMethod]
    public void RestorePutsTheNoteBackAsFound()
    {
        var path = Path.Combine(_dir, "edge1.gro");
        File.WriteAllText(path, "# hand-written\neth1\n");
        var found = GroNote.Read(path);

        GroNote.Write(path, "edge1", ["eth1", "eth2"]);
        GroNote.Restore(path, found);
        Assert.AreEqual("# hand-written\neth1\n", File.ReadAllText(path));

        GroNote.Restore(path, null);
        Assert.IsFalse(File.Exists(path), "no note found: none after the restore");
    }
}
