using SfcProxy.Net;
using SfcProxy.Bpf;

namespace SfcProxy.Tests.Bpf;

[TestClass]
public sealed class BpfMapTests
{
    private static BpfObject LoadProbe(string pinRoot, uint? tableSize = null)
    {
        BpfObject obj = BpfObject.Open(TestObjects.Probe, pinRoot);
        try
        {
            if (tableSize is uint size)
            {
                obj.SetMaxEntries("probe_table", size);
            }
            obj.Load();
            return obj;
        }
        catch
        {
            obj.Dispose();
            throw;
        }
    }

    [TestMethod]
    public void UpdateLookupDeleteKeys()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        try
        {
            using BpfObject obj = LoadProbe(pinRoot);
            BpfMap table = obj.Map("probe_table");
            Assert.AreEqual(4u, table.KeySize);
            Assert.AreEqual(8u, table.ValueSize);
            Assert.AreEqual(64u, table.MaxEntries);
            Assert.IsFalse(table.IsPerCpu);

            table.Update(7u, 700ul);
            table.Update(8u, 800ul, MapUpdateFlags.NoExist);

            Assert.IsTrue(table.TryLookup(7u, out ulong value));
            Assert.AreEqual(700ul, value);
            Assert.IsFalse(table.TryLookup(9u, out ulong _));
            CollectionAssert.AreEquivalent(new[] { 7u, 8u }, table.Keys<uint>().ToArray());
            Assert.AreEqual(2, table.Count());

            BpfException exists = Assert.ThrowsExactly<BpfException>(() => table.Update(8u, 1ul, MapUpdateFlags.NoExist));
            StringAssert.Contains(exists.Message, "probe.bpf.o/probe_table");
            StringAssert.Contains(exists.Message, "EEXIST");

            Assert.IsTrue(table.Delete(7u));
            Assert.IsFalse(table.Delete(7u));
            Assert.AreEqual(1, table.Count());
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void WrongKeySizeIsRefused()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        try
        {
            using BpfObject obj = LoadProbe(pinRoot);

            ArgumentException e = Assert.ThrowsExactly<ArgumentException>(() => obj.Map("probe_table").Update(1ul, 1ul));

            StringAssert.Contains(e.Message, "probe_table");
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void PerCpuCounterSumsTestRuns()
    {
        const int runs = 1000;
        string pinRoot = TestObjects.UniquePinRoot();
        try
        {
            using BpfObject obj = LoadProbe(pinRoot);
            BpfMap table = obj.Map("probe_table");
            table.Update(1u, 0ul);

            obj.Program("probe_count").TestRun(Packet.Eth().IPv4().Udp().Payload(32).Build(), repeat: runs);

            BpfMap packets = obj.Map("probe_packets");
            Assert.IsTrue(packets.IsPerCpu);
            ulong[] perCpu = packets.LookupPerCpu<uint, ulong>(0u);
            Assert.AreEqual(BpfMap.PossibleCpuCount, perCpu.Length);
            Assert.AreEqual((ulong)runs, perCpu.Aggregate(0ul, (sum, v) => sum + v));
            Assert.IsTrue(table.TryLookup(1u, out ulong seen));
            Assert.AreEqual((ulong)runs, seen);

            packets.UpdatePerCpu(0u, new ulong[BpfMap.PossibleCpuCount]);
            Assert.AreEqual(0ul, packets.LookupPerCpu<uint, ulong>(0u).Aggregate(0ul, (sum, v) => sum + v));
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void SetMaxEntriesBeforeLoad()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        try
        {
            using BpfObject obj = LoadProbe(pinRoot, tableSize: 4096);

            Assert.AreEqual(4096u, obj.Map("probe_table").MaxEntries);
            Assert.ThrowsExactly<InvalidOperationException>(() => obj.SetMaxEntries("probe_table", 10));
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void ObjectsShareMapsThroughPinRoot()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        try
        {
            using BpfObject first = LoadProbe(pinRoot);
            using BpfObject second = LoadProbe(pinRoot);
            Assert.IsTrue(File.Exists(Path.Combine(pinRoot, "probe_table")));

            first.Map("probe_table").Update(42u, 4200ul);

            Assert.IsTrue(second.Map("probe_table").TryLookup(42u, out ulong value));
            Assert.AreEqual(4200ul, value);
            using BpfMap pinned = BpfMap.OpenPinned(Path.Combine(pinRoot, "probe_table"));
            Assert.AreEqual("probe_table", pinned.Name);
            Assert.AreEqual(4u, pinned.KeySize);
            Assert.AreEqual(8u, pinned.ValueSize);
            Assert.AreEqual(64u, pinned.MaxEntries);
            Assert.IsTrue(pinned.TryLookup(42u, out value));
            Assert.AreEqual(4200ul, value);
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void PinnedMapOutlivesObject()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        try
        {
            using (BpfObject obj = LoadProbe(pinRoot))
            {
                obj.Map("probe_table").Update(5u, 55ul);
            }

            using BpfMap pinned = BpfMap.OpenPinned(Path.Combine(pinRoot, "probe_table"));
            Assert.IsTrue(pinned.TryLookup(5u, out ulong value));
            Assert.AreEqual(55ul, value);
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }

    [TestMethod]
    public void BatchLookupAndDelete()
    {
        string pinRoot = TestObjects.UniquePinRoot();
        try
        {
            using BpfObject obj = LoadProbe(pinRoot);
            BpfMap table = obj.Map("probe_table");
            for (uint k = 100; k < 140; k++)
            {
                table.Update(k, (ulong)k * 10);
            }

            var seen = new Dictionary<uint, ulong>();
            var cursor = new MapBatchCursor();
            uint[] keys = new uint[64];
            ulong[] values = new ulong[64];
            while (!cursor.Finished)
            {
                int n = table.LookupBatch<uint, ulong>(cursor, keys, values);
                for (int i = 0; i < n; i++)
                {
                    seen[keys[i]] = values[i];
                }
            }
            Assert.AreEqual(40, seen.Count);
            Assert.IsTrue(seen.All(kv => kv.Value == (ulong)kv.Key * 10));

            uint[] old = seen.Keys.Where(k => k < 120).ToArray();
            Assert.AreEqual(old.Length, table.DeleteBatch<uint>(old));
            Assert.AreEqual(20, table.Count());
        }
        finally
        {
            TestObjects.RemovePinRoot(pinRoot);
        }
    }
}
