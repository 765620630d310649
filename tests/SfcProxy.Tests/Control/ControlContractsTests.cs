using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using SfcProxy.Control;
using SfcProxy.Dsr;
using SfcProxy.Policy;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Control;

/// <summary>The wire DTOs the server and the CLI share, through their source-generated JSON contexts.</summary>
[TestClass]
public sealed class ControlContractsTests
{
    /// <summary>Serialized, read back and serialized again: the same line, "ok" first where the DTO is an answer.</summary>
    private static void AssertRoundTrips<T>(T value, JsonTypeInfo<T> type, string expected)
    {
        string json = JsonSerializer.Serialize(value, type);
        Assert.AreEqual(expected, json);
        Assert.AreEqual(json, JsonSerializer.Serialize(JsonSerializer.Deserialize(json, type)!, type));
    }

    [TestMethod]
    public void EveryDtoRoundTripsThroughItsContext()
    {
        AssertRoundTrips(new ControlRequest { Name = "dsr-backend", Action = "weight", Vip = "203.0.113.10", Port = 80, Protocol = "tcp", Address = "10.0.0.1", Weight = 0 },
            ControlJsonContext.Default.ControlRequest,
            """{"request":"dsr-backend","protocol":"tcp","port":80,"action":"weight","vip":"203.0.113.10","address":"10.0.0.1","weight":0}""");
        AssertRoundTrips(new ControlRequest { Name = "cache-dump", Limit = 5 }, ControlJsonContext.Default.ControlRequest,
            """{"request":"cache-dump","limit":5}""");
        AssertRoundTrips(new ErrorAnswer("stats unavailable: map gone"), ControlJsonContext.Default.ErrorAnswer,
            """{"ok":false,"error":"stats unavailable: map gone"}""");
        AssertRoundTrips(new StatusAnswer(new InstanceStatus("test", 42, ["mpls", "nsh"], "header-hash", "drop", "native", 1,
                new InstanceInterfaces("veth0", "veth1", null), "Information", 1.5)), ControlJsonContext.Default.StatusAnswer,
            """{"ok":true,"status":{"instance":"test","pid":42,"encapsulations":["mpls","nsh"],"keyMode":"header-hash","missPolicy":"drop","xdpMode":"native","consumedSegments":1,"interfaces":{"ingress":"veth0","egress":"veth1","vnf":null},"logLevel":"Information","uptimeSeconds":1.5}}""");
        AssertRoundTrips(new LogLevelAnswer("Information", "Debug"), ControlJsonContext.Default.LogLevelAnswer,
            """{"ok":true,"previous":"Information","level":"Debug"}""");
        AssertRoundTrips(new MetricsAnswer("# TYPE x counter\nx 1\n"), ControlJsonContext.Default.MetricsAnswer,
            """{"ok":true,"metrics":"# TYPE x counter\nx 1\n"}""");
        AssertRoundTrips(new StatsAnswer(new Dictionary<string, ulong> { ["rx_popped"] = 3, ["tx_pushed"] = ulong.MaxValue }),
            ProxyJsonContext.Default.StatsAnswer, """{"ok":true,"counters":{"rx_popped":3,"tx_pushed":18446744073709551615}}""");
        AssertRoundTrips(new CacheAnswer(new CacheSummary("metadata", 3, 65536)), ProxyJsonContext.Default.CacheAnswer,
            """{"ok":true,"cache":{"keyMode":"metadata","entries":3,"capacity":65536}}""");
        AssertRoundTrips(new FlushAnswer(2), ProxyJsonContext.Default.FlushAnswer, """{"ok":true,"flushed":2}""");
        AssertRoundTrips(new CacheDumpAnswer("metadata", 2,
            [
                new CacheDumpEntry("7", "mpls", 12, 1, null, ["16001/0/64", "16002/0/64/S"]),
                new CacheDumpEntry("8", "nsh", 3, 0, new NshHeaderView(100, 254, 63, 1, 24, 1, "0fc6"), null),
            ]), ProxyJsonContext.Default.CacheDumpAnswer,
            """{"ok":true,"keyMode":"metadata","count":2,"entries":[{"key":"7","encap":"mpls","ageMs":12,"refs":1,"labels":["16001/0/64","16002/0/64/S"]},""" +
            """{"key":"8","encap":"nsh","ageMs":3,"refs":0,"nsh":{"spi":100,"si":254,"ttl":63,"mdType":1,"length":24,"nextProtocol":1,"hex":"0fc6"}}]}""");
        AssertRoundTrips(new LatencyAnswer(new LatencyBody(1024, 64,
                [new EncapsulationLatencyBody("mpls", 1, 0, null, null, null, [0, 0])],
                [new ChainLatencyBody("mpls", 16000, 4, 8192, 8192, 8192, [0, 4])])), ProxyJsonContext.Default.LatencyAnswer,
            """{"ok":true,"latency":{"chainCapacity":1024,"sampleEvery":64,"encapsulations":[{"encap":"mpls","chains":1,"count":0,"p50Ns":null,"p90Ns":null,"p99Ns":null,"buckets":[0,0]}]""" +
            ""","chains":[{"encap":"mpls","chain":16000,"count":4,"p50Ns":8192,"p90Ns":8192,"p99Ns":8192,"buckets":[0,4]}]}}""");
        AssertRoundTrips(new DsrStatusAnswer(new DsrStatusBody(
                [new DsrServiceStatus(null, "203.0.113.10", 80, "tcp", 0, 0,
                    [new DsrBackendStatus(3, "10.0.0.1", 0, "removing", 2, "2026-01-01T00:00:00.0000000Z", "2026-01-01T00:00:01.0000000Z", 5, 500, "live", "weight 1")])],
                new Dictionary<string, ulong> { ["tx"] = 5 },
                [new DsrLiveChangeStatus("203.0.113.10:80/tcp", "10.0.0.1", "removed", "weight 1", "2026-01-01T00:00:00.0000000Z")],
                "/var/lib/sfcproxy/lb1/dsr-live.json")), DsrJsonContext.Default.DsrStatusAnswer,
            """{"ok":true,"dsr":{"services":[{"vip":"203.0.113.10","port":80,"protocol":"tcp","packets":0,"bytes":0,"backends":[""" +
            """{"id":3,"address":"10.0.0.1","weight":0,"state":"removing","flows":2,"removedAt":"2026-01-01T00:00:00.0000000Z","lastActiveAt":"2026-01-01T00:00:01.0000000Z","pack""" +
            """ets":5,"bytes":500,"source":"live","config":"weight 1"}]}],"counters":{"tx":5},"liveChanges":""" +
            """[{"service":"203.0.113.10:80/tcp","address":"10.0.0.1","live":"removed","config":"weight 1","at":"2026-01-01T00:00:00.0000000Z"}],"state""" +
            """File":"/var/lib/sfcproxy/lb1/dsr-live.json"}}""");
        AssertRoundTrips(new PolicyCheckAnswer(new PolicyCheckBody("model", false, "default-deny", null, null,
                "198.18.1.2", 2, "app=web", "198.18.10.3", 3, "app=db", "tcp", 443)), PolicyJsonContext.Default.PolicyCheckAnswer,
            """{"ok":true,"check":{"answeredBy":"model","allowed":false,"verdict":"default-deny","src":"198.18.1.2","srcIdentity":2""" +
            ""","srcLabels":"app=web","dst":"198.18.10.3","dstIdentity":3,"dstLabels":"app=db","protocol":"tcp","port":443}}""");
        AssertRoundTrips(new PolicyStatusAnswer(new PolicyStatusBody(["a.yaml"], 1, 1, 1, 1, 2,
                [new PolicyIdentityStatus(2, "app=web", true, ["web-1"], ["198.18.1.0/24"])], false,
                [new PolicyRuleStatus(1, "web", "a.yaml", "app=web", "app=db", ["tcp/443"], 1, 1, 2, 2, null)])),
            PolicyJsonContext.Default.PolicyStatusAnswer,
            """{"ok":true,"policy":{"files":["a.yaml"],"identityCount":1,"prefixCount":1,"enforcedCount":1,"ruleCount":1,"entryCount":2""" +
            ""","identities":[{"id":2,"labels":"app=web","enforced":true,"endpoints":["web-1"],"cidrs":["198.18.1.0/24"]}],"worldEnforced":false""" +
            ""","rules":[{"id":1,"name":"web","origin":"a.yaml","from":"app=web","to":"app=db","ports":["tcp/443"],"sources":1,"destinations":1,"entries":2,"generated":2}]}}""");
        AssertRoundTrips(new PolicyAppliedAnswer(new PolicyApplied(["a.yaml"], 1, 1, 1, 1, 2, 0.125)), PolicyJsonContext.Default.PolicyAppliedAnswer,
            """{"ok":true,"applied":{"files":["a.yaml"],"identityCount":1,"prefixCount":1,"enforcedCount":1,"ruleCount":1,"entryCount":2,"compileMs":0.125}}""");
        AssertRoundTrips(new PolicyApplyRefusal("policy not applied: 1 error(s): a", ["a"]), PolicyJsonContext.Default.PolicyApplyRefusal,
            """{"ok":false,"error":"policy not applied: 1 error(s): a","errors":["a"]}""");
    }

    [TestMethod]
    [DataRow("""{"ok":true,"flushed":2}""", true, null)]
    [DataRow("""{"ok":false,"error":"flush needs root (peer uid 65534)"}""", false, "flush needs root (peer uid 65534)")]
    [DataRow("""[1,2]""", false, null)]
    [DataRow("""{"ok":"yes"}""", false, null)]
    public void EveryAnswerOpensWithItsEnvelope(string line, bool ok, string? error)
    {
        using var answer = JsonDocument.Parse(line);

        Assert.AreEqual(new AnswerEnvelope(ok, error), AnswerEnvelope.Read(answer.RootElement));
    }

    [TestMethod]
    public void TheServerReadsTheRequestTheCliWrites()
    {
        var sent = new ControlRequest { Name = "policy-check", Src = "198.18.1.2", Dst = "198.18.10.3", Proto = "tcp", Port = 443 };

        Assert.IsTrue(ControlRequest.TryParse(new ReadOnlySequence<byte>(JsonSerializer.SerializeToUtf8Bytes(sent, ControlJsonContext.Default.ControlRequest)),
            out var received, out string error), error);

        Assert.AreEqual(sent, received);
    }

    [TestMethod]
    public void EachRequestReadsItsOwnSpellingOfTheProtocol()
    {
        // The wire as clients have always sent it: policy-check's "proto", dsr-backend's "protocol";
        // the other spelling is an extra field, ignored, never a conflict.
        Assert.IsTrue(ControlRequest.TryParse(new ReadOnlySequence<byte>("""{"request":"policy-check","proto":"udp","protocol":"tcp"}"""u8.ToArray()),
            out var check, out string error), error);
        Assert.AreEqual("udp", check.Proto);
        Assert.IsTrue(ControlRequest.TryParse(new ReadOnlySequence<byte>("""{"request":"dsr-backend","proto":"udp","protocol":"tcp"}"""u8.ToArray()),
            out var backend, out error), error);
        Assert.AreEqual("tcp", backend.Protocol);
        Assert.IsTrue(ControlRequest.TryParse(new ReadOnlySequence<byte>("""{"request":"status","proto":"tcp","protocol":"udp"}"""u8.ToArray()),
            out _, out error), error);
    }
}
