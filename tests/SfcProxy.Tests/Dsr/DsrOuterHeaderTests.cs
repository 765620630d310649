using System.Buffers.Binary;
using System.Net;
using SfcProxy.Dsr;
using SfcProxy.Net;

namespace SfcProxy.Tests.Dsr;

/// <summary>
/// The outer IPv4 header's rules through BPF_PROG_TEST_RUN: RFC 2003 3.1 and RFC 6040 normal mode (the
/// TOS, DSCP and ECN, is the inner packet's), RFC 6864 (an atomic outer header, DF set, keeps ID 0; a
/// DF-clear one, which a router may fragment, gets an ID that does not repeat), the configured TTL.
/// </summary>
[TestClass]
public sealed class DsrOuterHeaderTests
{
    private static readonly byte[] LbMac = [0x02, 0, 0, 0, 0, 0x10];
    private static readonly byte[] NexthopMac = [0x02, 0, 0, 0, 0, 0x30];
    private const string Vip = "198.18.60.10", Client = "198.18.50.5", Source = "198.18.61.1", Backend = "198.18.62.1";

    private static DsrUnderTest Lb(byte hopLimit = 0)
    {
        var lb = new DsrUnderTest();
        lb.Objects.WriteConfig(new DsrSettings(Source: IPAddress.Parse(Source), Flags: DsrConfigFlag.StaticNexthop, NexthopMac: NexthopMac, HopLimit: hopLimit));
        lb.Objects.Apply(new DsrTables([new DsrService(0, IPAddress.Parse(Vip), 53, 17)], [new DsrBackend(1, IPAddress.Parse(Backend))],
            new Dictionary<uint, uint[]> { [0] = Enumerable.Repeat(1u, DsrTables.MaglevTableSize).ToArray() }));
        return lb;
    }

    private static byte[] Udp(byte tos = 0, ushort fragOff = 0x4000, ushort sport = 40000) =>
        Packet.Eth(LbMac).IPv4(Client, Vip, id: 0x1234, ttl: 61, tos: tos, fragOff: fragOff).Udp(sport, 53).Payload(20).Build();

    [TestMethod]
    [DataRow((byte)0x00)]
    [DataRow((byte)(46 << 2))]          // EF, Not-ECT
    [DataRow((byte)(34 << 2 | 2))]      // AF41, ECT(0)
    [DataRow((byte)(10 << 2 | 3))]      // AF11, CE: normal mode copies CE too
    public void OuterTosIsTheInnerTos(byte tos)
    {
        using var lb = Lb();
        var frame = Udp(tos);

        var output = lb.Objects.TestRun(frame).Frame;

        var expected = Packet.Eth(NexthopMac, LbMac).IPv4(Source, Backend, id: 0, ttl: 64, protocol: 4, tos: tos).Payload(frame.AsSpan(14)).Build();
        CollectionAssert.AreEqual(expected, output, "outer TOS = inner TOS, checksum over it");
        Assert.IsTrue(Checksum.IPv4HeaderValid(output, 14));
    }

    [TestMethod]
    public void DfSetKeepsIdZeroDfClearGetsIdsThatDoNotRepeat()
    {
        using var lb = Lb();
        Assert.AreEqual(0, OuterId(lb.Objects.TestRun(Udp()).Frame), "DF set: atomic, ID 0 (RFC 6864 4.2)");

        const int Packets = 200;
        var ids = Enumerable.Range(0, Packets).Select(i => OuterId(lb.Objects.TestRun(Udp(fragOff: 0, sport: (ushort)(40000 + i))).Frame)).ToList();
        Assert.DoesNotContain((ushort)0, ids, "never the constant 0");
        Assert.AreEqual(Packets, ids.Distinct().Count(), "no ID repeats among the last packets (RFC 6864 4.3)");
        var shift = DsrObjects.IpIdShift(SfcProxy.Bpf.BpfMap.PossibleCpuCount);
        Assert.IsTrue(ids.All(id => (id & ((1 << shift) - 1)) < SfcProxy.Bpf.BpfMap.PossibleCpuCount), "the low bits are a CPU number");
    }

    [TestMethod]
    public void OuterTtlIsTheConfiguredHopLimit()
    {
        using var lb = Lb(hopLimit: 17);
        Assert.AreEqual(17, lb.Objects.TestRun(Udp()).Frame[14 + 8]);
    }

    [TestMethod]
    [DataRow(1, 0), DataRow(2, 1), DataRow(3, 2), DataRow(4, 2), DataRow(5, 3), DataRow(64, 6), DataRow(65, 7)]
    public void IpIdShiftCoversEveryCpuNumber(int cpus, int shift) => Assert.AreEqual((byte)shift, DsrObjects.IpIdShift(cpus));

    private static ushort OuterId(byte[] frame) => BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(14 + 4));
}
