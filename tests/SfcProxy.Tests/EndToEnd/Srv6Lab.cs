using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;

namespace SfcProxy.Tests.EndToEnd;

/// <summary>
/// The SRv6 parts of the lab: the proxy SID, and the kernel's own SRv6 at both ends. The sender
/// namespace encapsulates with `encap seg6 mode encap segs PROXY_SID,NEXT_SID` routes; the
/// receiver decapsulates with seg6local routes on the next SIDs, which drop any packet whose SRH
/// is not what End.AD must leave (Segments Left not 0, invalid SRH, wrong destination: no route)
/// and count what they took (`count`: packets, errors).
/// </summary>
internal static partial class Srv6Lab
{
    /// <summary>The proxy SID (Srv6:Sids), in the lab's 2001:2::/48; sfc_traffic.py sends to it.</summary>
    public const string ProxySid = "2001:2:0:ff::100";

    /// <summary>Next SID for inner IPv4: End.DX4 to the receiver's own IPv4 address.</summary>
    public const string Dx4Sid = "2001:2:0:ee::4";

    /// <summary>Next SID for inner IPv6: End.DT6 in the local table. (End.DX6 cannot deliver to the
    /// node itself: its next-hop lookup drops routes to local addresses, it cross-connects to a
    /// neighbour; End.DT6 is the same decapsulation with a table lookup that may end locally.)</summary>
    public const string Dt6Sid = "2001:2:0:ee::6";

    /// <summary>The Srv6 section: the proxy SID serving inner IPv4 and IPv6.</summary>
    public static JsonObject SidsSection() => new()
    {
        ["Sids"] = new JsonArray(new JsonObject { ["Sid"] = ProxySid, ["Inner"] = new JsonArray("ipv4", "ipv6") }),
    };

    /// <summary>Sender: the outer source, and `encap seg6` routes for the receiver's two addresses;
    /// receiver: the seg6local routes. Fails the test if iproute2 or the kernel refuses one.</summary>
    public static void AddKernelRoutes(LabTopology topo)
    {
        Run(topo, topo.SenderNs, "ip", "sr", "tunsrc", "set", "2001:2:1::1");
        Run(topo, topo.SenderNs, "ip", "route", "add", "198.18.2.1/32", "encap", "seg6", "mode", "encap",
            "segs", $"{ProxySid},{Dx4Sid}", "dev", topo.SenderIf);
        Run(topo, topo.SenderNs, "ip", "-6", "route", "add", "2001:2:2::1/128", "encap", "seg6", "mode", "encap",
            "segs", $"{ProxySid},{Dt6Sid}", "dev", topo.SenderIf);
        Run(topo, topo.ReceiverNs, "ip", "-6", "route", "add", $"{Dx4Sid}/128", "encap", "seg6local", "action", "End.DX4",
            "nh4", "198.18.2.1", "count", "dev", topo.ReceiverIf);
        Run(topo, topo.ReceiverNs, "ip", "-6", "route", "add", $"{Dt6Sid}/128", "encap", "seg6local", "action", "End.DT6",
            "table", "local", "count", "dev", topo.ReceiverIf);
    }

    /// <summary>A seg6local route's counters (`ip -s -6 route show SID`: packets N bytes B errors E).</summary>
    public static (long Packets, long Errors, string Text) RouteCounters(LabTopology topo, string sid)
    {
        var r = topo.Exec(topo.ReceiverNs, TimeSpan.FromSeconds(10), "ip", "-s", "-6", "route", "show", sid);
        var m = CountersPattern().Match(r.StdOut);
        if (r.ExitCode != 0 || !m.Success)
        {
            Assert.Fail($"no seg6local counters for {sid}:\n{r}");
        }
        return (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
            r.StdOut.Trim());
    }

    private static void Run(LabTopology topo, string ns, params string[] cmd)
    {
        var r = topo.Exec(ns, TimeSpan.FromSeconds(10), cmd);
        if (r.ExitCode != 0)
        {
            Assert.Fail($"in {ns}: {string.Join(' ', cmd)} failed:\n{r}");
        }
    }

    [GeneratedRegex(@"packets (\d+) bytes \d+ errors (\d+)")]
    private static partial Regex CountersPattern();
}
