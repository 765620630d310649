namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The daemon's files in shared places. The control socket replaces only a stale socket: a regular
/// file or a symlink at Socket:Path is refused before anything is attached, and left as it was. The
/// GRO note is never written through a symlink (the lab's socket directory is /tmp, world-writable,
/// where anyone can plant one). A pin directory that holds pins the daemon did not make (PinRoot the
/// bpffs root, the instance named like another tool's directory) is never deleted recursively.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class PathSafetyTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow(false, DisplayName = "a regular file at Socket:Path")]
    [DataRow(true, DisplayName = "a symlink at Socket:Path")]
    public void SomethingElseAtTheSocketPath_IsRefusedAndKept_NothingAttached(bool symlink)
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1), needBpftool: true);
        var target = Path.Combine(lab.Tmp, "precious");
        File.WriteAllText(target, "precious\n");
        if (symlink)
            File.CreateSymbolicLink(lab.SocketPath, target);
        else
            File.Copy(target, lab.SocketPath);
        lab.SetIngressGro(on: true);

        var output = lab.AssertRefused(lab.LaunchDaemon(lab.WriteConfig()), symlink ? "symlink at the socket path" : "regular file at the socket path");

        StringAssert.Contains(output, lab.SocketPath, "the refusal should name the socket path");
        Assert.AreEqual("precious\n", File.ReadAllText(target), "the file behind the socket path was changed");
        if (symlink)
            Assert.AreEqual(target, new FileInfo(lab.SocketPath).LinkTarget, "the symlink at the socket path was replaced");
        else
            Assert.AreEqual("precious\n", File.ReadAllText(lab.SocketPath), "the regular file at the socket path was replaced");
        lab.AssertFullyDetached($"after the refusal:\n{output}");
        Assert.IsTrue(lab.IngressGroIsOn(), $"the refused daemon left GRO off:\n{output}");
        Assert.IsNull(lab.GroNote(), "the refused daemon wrote a GRO note");
    }

    [TestMethod]
    public void ASymlinkAtTheGroNotePath_IsNotWrittenThrough()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "metadata", UserVnf: false, IpHops: 1), needBpftool: true);
        var victim = Path.Combine(lab.Tmp, "victim");
        File.WriteAllText(victim, "precious\n");
        File.CreateSymbolicLink(lab.GroNotePath, victim);
        lab.SetIngressGro(on: true);
        try
        {
            var daemon = lab.StartDaemon(lab.WriteConfig());
            Assert.AreEqual("precious\n", File.ReadAllText(victim), "the daemon wrote its GRO note through the symlink");
            Assert.IsNull(new FileInfo(lab.GroNotePath).LinkTarget, "the note path is still the planted symlink");
            StringAssert.Contains(lab.GroNote(), lab.Topo.ProxyIngress, "the GRO note should name the ingress");

            var stop = daemon.Stop(TimeSpan.FromSeconds(15));
            Assert.AreEqual(0, daemon.Process.ExitCode, $"{stop}\n{daemon.Process.Describe(4000)}");
            Assert.AreEqual("precious\n", File.ReadAllText(victim), "the stop changed the symlink's target");
            Assert.IsTrue(lab.IngressGroIsOn(), "GRO not restored");
            Assert.IsFalse(File.Exists(lab.GroNotePath), "the note is left after the stop");
        }
        finally
        {
            File.Delete(lab.GroNotePath);
        }
    }

    [TestMethod]
    public void APinDirectoryWithSomeoneElsesPins_IsNotDeletedRecursively()
    {
        using var lab = ScenarioLab.Up(TestContext, new ScenarioOptions(KeyMode: "header-hash", UserVnf: false, IpHops: 1), needBpftool: true);
        const string bpffs = "/sys/fs/bpf";
        var dir = Path.Combine(bpffs, lab.Instance);
        var foreign = Path.Combine(dir, "foreign_map");
        Directory.CreateDirectory(dir);
        try
        {
            Cmd.Check("bpftool map create", "bpftool", ["map", "create", foreign, "type", "array", "key", "4", "value", "4", "entries", "1", "name", "foreign_map"],
                TimeSpan.FromSeconds(10));
            var daemon = lab.StartDaemon(lab.WriteConfig(p => p["PinRoot"] = bpffs));
            Assert.IsTrue(File.Exists(Path.Combine(dir, $"link_xdp_rx@{lab.Topo.ProxyIngress}")), BpfState.DescribePins(lab.Instance, bpffs));

            var stop = daemon.Stop(TimeSpan.FromSeconds(15));
            var output = daemon.Process.Describe(4000);
            Assert.AreEqual(0, daemon.Process.ExitCode, $"{stop}\n{output}");
            Assert.IsTrue(File.Exists(foreign), $"the daemon's stop deleted a pin it did not make ({foreign}):\n{output}");
            CollectionAssert.AreEqual(new[] { "foreign_map" }, Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).ToList(),
                $"the daemon's own pins are not all gone:\n{output}");
            Assert.AreEqual(0u, lab.IngressHooks().Xdp, "xdp_rx still attached");
        }
        finally
        {
            if (Directory.Exists(dir))
                Directory.Delete(dir, recursive: true);
        }
    }
}
