using SfcProxy.Net;
using SfcProxy.Bpf;
using SfcProxy.Bench;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Bpf;

[TestClass]
public sealed class BpfObjectTests
{
    private const uint XDP_PASS = 2;
    private const uint TC_ACT_OK = 0;

    [TestMethod]
    public void EnvironmentIsReady()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        try
        {
            BpfEnvironment.EnsureReady(pinRoot);
            Assert.IsTrue(Directory.Exists(pinRoot));
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void EmptyXdpPassesPacketUnchanged()
    {
        using BpfObject obj = BpfObject.Open(TestObjects.EmptyXdp, pinRoot: null);
        obj.Load();
        byte[] packet = Packet.Eth().IPv4().Udp().Payload(32).Build();

        TestRunResult result = obj.Program(BenchBpfNames.EmptyXdp.Program).TestRun(packet);

        Assert.AreEqual("empty_xdp.bpf.o", obj.Name);
        Assert.AreEqual(XDP_PASS, result.ReturnValue);
        CollectionAssert.AreEqual(packet, result.Data);
    }

    [TestMethod]
    public void EmptyTcReturnsOkPacketUnchanged()
    {
        using BpfObject obj = BpfObject.Open(TestObjects.EmptyTc, pinRoot: null);
        obj.Load();
        byte[] packet = Packet.Eth().IPv4().Udp().Payload(32).Build();

        TestRunResult result = obj.Program(BenchBpfNames.EmptyTc.Program).TestRun(packet, repeat: 100);

        Assert.AreEqual(TC_ACT_OK, result.ReturnValue);
        CollectionAssert.AreEqual(packet, result.Data);
    }

    /// <summary>
    /// Control sessions read an object's maps from their own threads (two `stats` at once): the
    /// first lookups of a map or program by name race. Before, a plain Dictionary threw "an item
    /// with the same key has already been added" (HostileClientTests caught it in the daemon).
    /// </summary>
    [TestMethod]
    public void FirstLookupsFromManyThreadsAtOnceAllSucceed()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        try
        {
            for (var round = 0; round < 40; round++)
            {
                using BpfObject obj = BpfObject.Open(TestObjects.Probe, pinRoot);
                obj.Load();
                const int threads = 8;
                using var start = new Barrier(threads);
                var seen = new BpfMap[threads];
                var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
                var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
                {
                    try
                    {
                        start.SignalAndWait();
                        seen[i] = obj.Map("probe_table");
                        obj.Map("probe_packets");
                        obj.Program("probe_count");
                    }
                    catch (Exception e)
                    {
                        failures.Add(e);
                    }
                })).ToList();
                workers.ForEach(t => t.Start());
                workers.ForEach(t => t.Join());
                Assert.IsEmpty(failures, $"round {round}: {string.Join("; ", failures.Select(e => e.Message))}");
                Assert.IsTrue(seen.All(m => ReferenceEquals(m, seen[0])), $"round {round}: every thread got the one map object");
            }
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void MissingFileIsNamed()
    {
        string path = TestObjects.Path("no_such_object.bpf.o");

        BpfException e = Assert.ThrowsExactly<BpfException>(() => BpfObject.Open(path, pinRoot: null));

        StringAssert.Contains(e.Message, "bpf_object__open_file");
        StringAssert.Contains(e.Message, path);
        StringAssert.Contains(e.Message, "ENOENT");
        Assert.AreEqual(2, e.Errno);
    }

    [TestMethod]
    public void MissingProgramIsNamed()
    {
        using BpfObject obj = BpfObject.Open(TestObjects.EmptyXdp, pinRoot: null);
        obj.Load();

        BpfException e = Assert.ThrowsExactly<BpfException>(() => obj.Program(SfcBpfNames.XdpRx.Program));

        StringAssert.Contains(e.Message, "empty_xdp.bpf.o");
        StringAssert.Contains(e.Message, "'xdp_rx'");
    }

    [TestMethod]
    public void MissingMapIsNamed()
    {
        using BpfObject obj = BpfObject.Open(TestObjects.EmptyXdp, pinRoot: null);

        BpfException e = Assert.ThrowsExactly<BpfException>(() => obj.SetMaxEntries(SfcBpfNames.Maps.MetaCache, 10));

        StringAssert.Contains(e.Message, "empty_xdp.bpf.o");
        StringAssert.Contains(e.Message, "'sfc_meta_cache'");
    }

    [TestMethod]
    public void RejectedProgramReportsVerifierLog()
    {
        using BpfObject obj = BpfObject.Open(TestObjects.VerifierReject, pinRoot: null);

        BpfException e = Assert.ThrowsExactly<BpfException>(obj.Load);

        StringAssert.Contains(e.Message, "bpf_object__load(verifier_reject.bpf.o)");
        StringAssert.Contains(e.Message, "EACCES");
        // The verifier's own words about the unchecked packet read.
        StringAssert.Contains(e.Message, "invalid access to packet");
    }

    [TestMethod]
    public void ProgramsNeedLoad()
    {
        using BpfObject obj = BpfObject.Open(TestObjects.EmptyXdp, pinRoot: null);

        InvalidOperationException e = Assert.ThrowsExactly<InvalidOperationException>(() => obj.Program(BenchBpfNames.EmptyXdp.Program));

        StringAssert.Contains(e.Message, "empty_xdp.bpf.o");
    }

    [TestMethod]
    public void ProgramOfDisposedObjectIsRefused()
    {
        BpfProgram program;
        using (BpfObject obj = BpfObject.Open(TestObjects.EmptyXdp, pinRoot: null))
        {
            obj.Load();
            program = obj.Program(BenchBpfNames.EmptyXdp.Program);
        }

        Assert.ThrowsExactly<ObjectDisposedException>(() => program.TestRun(Packet.Eth().IPv4().Udp().Payload(32).Build()));
    }
}
