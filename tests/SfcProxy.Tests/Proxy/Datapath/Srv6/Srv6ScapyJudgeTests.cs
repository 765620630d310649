using System.Text.Json;
using SfcProxy.Net;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Tests.EndToEnd;

namespace SfcProxy.Tests.Proxy.Datapath.Srv6;

/// <summary>
/// An outside judge of what tc_tx emits: scapy (python3-scapy) dissects each restored frame, reads the outer IPv6
/// header and SRH as IPv6ExtHdrSegmentRouting understands them, and recomputes the inner transport checksum; the
/// test then compares that reading with RFC 8754's End rule applied to the chain the packet arrived with.
/// </summary>
[TestClass]
public sealed class Srv6ScapyJudgeTests
{
    private const string Script = """
import sys, json
from scapy.all import Ether, Dot1Q, IPv6, IPv6ExtHdrSegmentRouting, IP, UDP, TCP, raw
out = []
for h in sys.argv[1:]:
    f = Ether(bytes.fromhex(h))
    ip6 = f[IPv6]
    srh = f[IPv6ExtHdrSegmentRouting]
    inner = srh.payload
    while inner.__class__.__name__.startswith('IPv6ExtHdr'):
        inner = inner.payload
    l4 = inner[UDP] if UDP in inner else inner[TCP]
    copy = inner.__class__(raw(inner))
    ll = copy[UDP] if UDP in copy else copy[TCP]
    c0 = ll.chksum
    del ll.chksum
    c1 = ll.__class__(raw(ll)).chksum
    out.append(dict(dst=ip6.dst, hlim=ip6.hlim, plen=ip6.plen, rest=len(ip6.payload), segleft=srh.segleft,
        lastentry=srh.lastentry, addresses=[str(a) for a in srh.addresses], nh=srh.nh, tag=srh.tag,
        inner=inner.__class__.__name__, checksum_ok=c0 == c1))
print(json.dumps(out))
""";

    [TestMethod]
    public void ScapyReadsTheRestoredHeadersAsTheEndRuleSays()
    {
        Assert.IsTrue(File.Exists(LabEnvironment.Python), $"{LabEnvironment.Python} with python3-scapy is required");
        using var proxy = new ProxyUnderTest(KeyMode.HeaderHash);
        var cases = new List<(Srv6Chain Chain, Inner Inner, byte[] Frame)>();
        foreach (var chain in Srv6Chain.Popped)
            foreach (var inner in new[] { Inner.V4Udp, Inner.V6Tcp })
            {
                var rx = proxy.Rx(inner.On(chain.On(Packet.Eth(), 30), 64).Build());
                var tx = proxy.Tx(KernelVnf.Forward(rx.Frame), rx);
                Assert.AreEqual(ProxyTestRuns.TcOk, tx.Verdict, chain.Name);
                cases.Add((chain, inner, tx.Frame));
            }
        var r = Cmd.Run(LabEnvironment.Python, ["-c", Script, .. cases.Select(c => Convert.ToHexStringLower(c.Frame))], TimeSpan.FromSeconds(60));
        Assert.AreEqual(0, r.ExitCode, r.ToString());
        var read = JsonDocument.Parse(r.StdOut).RootElement.EnumerateArray().ToList();
        Assert.HasCount(cases.Count, read);
        for (var i = 0; i < cases.Count; i++)
        {
            var (chain, inner, _) = cases[i];
            var s = read[i];
            var name = $"{chain.Name}-{inner.Name}";
            var sl = chain.SegmentsLeft - 1;
            Assert.AreEqual(sl, s.GetProperty("segleft").GetInt32(), $"{name}: Segments Left - 1");
            Assert.AreEqual(chain.List[sl], s.GetProperty("dst").GetString(), $"{name}: destination = Segment List[SL]");
            Assert.AreEqual(29, s.GetProperty("hlim").GetInt32(), $"{name}: hop limit - 1");
            Assert.AreEqual(s.GetProperty("rest").GetInt32(), s.GetProperty("plen").GetInt32(), $"{name}: payload length = bytes behind the header");
            Assert.AreEqual(chain.List.Length - 1, s.GetProperty("lastentry").GetInt32(), $"{name}: Last Entry");
            CollectionAssert.AreEqual(chain.List, s.GetProperty("addresses").EnumerateArray().Select(a => a.GetString()).ToArray(), $"{name}: segment list");
            Assert.AreEqual(0x77, s.GetProperty("tag").GetInt32(), $"{name}: tag");
            Assert.AreEqual(inner == Inner.V4Udp ? "IP" : "IPv6", s.GetProperty("inner").GetString(), $"{name}: inner packet");
            Assert.IsTrue(s.GetProperty("checksum_ok").GetBoolean(), $"{name}: inner transport checksum as scapy computes it");
        }
    }
}
