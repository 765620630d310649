using System.Net;
using System.Net.Sockets;
using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy.Options;

/// <summary>SRv6 (End.AD per packet): the proxy SIDs and the static miss policy's header.</summary>
public sealed class Srv6Options
{
    /// <summary>The proxy SIDs (at most 8): an IPv6 packet to one of them with an SRH and Segments Left &gt; 0 is
    /// popped for the VNF. Required when Encapsulations lists "srv6".</summary>
    public IList<Srv6SidOptions> Sids { get; set; } = [];

    /// <summary>Miss policy "static": the IPv6 header and SRH pushed on a packet without cached headers.</summary>
    public Srv6StaticOptions? Static { get; set; }
}

/// <summary>One proxy SID and the inner packets it hands to the VNF.</summary>
public sealed class Srv6SidOptions
{
    /// <summary>The SID: an IPv6 unicast address ("2001:db8::100").</summary>
    public string? Sid { get; set; }

    /// <summary>Inner packets served: "ipv4" (next header 4), "ipv6" (41), "ethernet" (143); at least one.</summary>
    public IList<Srv6Inner> Inner { get; set; } = [];
}

/// <summary>The static SRv6 header: source, segments in the order they are visited, hop limit.</summary>
public sealed class Srv6StaticOptions
{
    /// <summary>Outer source address.</summary>
    public string? Source { get; set; }

    /// <summary>Segments, first visited first (as <c>ip route ... encap seg6 segs</c> spells them), 1..16.</summary>
    public IList<string> Segments { get; set; } = [];

    /// <summary>Outer hop limit, 1..255, default 64.</summary>
    public int HopLimit { get; set; } = 64;
}

/// <summary>Binds, checks and encodes the <c>Srv6</c> part of the SFC proxy's section.</summary>
internal static class Srv6Config
{
    private const string Path = SfcProxyOptions.SectionName + ":Srv6";

    public static void Bind(ConfigSectionReader root, SfcProxyOptions options)
    {
        var srv6 = root.Object(nameof(options.Srv6));
        var sids = srv6.Array(nameof(Srv6Options.Sids)).ToList();
        if (sids.Count > 0)
            options.Srv6.Sids = sids.Select(BindSid).ToList();
        if (srv6.Has(nameof(Srv6Options.Static)))
        {
            var s = srv6.Object(nameof(Srv6Options.Static));
            var o = new Srv6StaticOptions();
            s.Require(nameof(o.Source));
            o.Source = s.String(nameof(o.Source), null);
            o.Segments = s.Array(nameof(o.Segments)).Select(e => e.OwnString()).ToList();
            o.HopLimit = s.Int(nameof(o.HopLimit), o.HopLimit);
            s.RejectUnknownKeys();
            options.Srv6.Static = o;
        }
        else
        {
            srv6.Object(nameof(Srv6Options.Static)); // known, absent
        }
        srv6.RejectUnknownKeys();
    }

    private static Srv6SidOptions BindSid(ConfigSectionReader element)
    {
        var sid = new Srv6SidOptions();
        element.Require(nameof(sid.Sid));
        sid.Sid = element.String(nameof(sid.Sid), null);
        sid.Inner = element.Array(nameof(sid.Inner)).Select(e => e.OwnChoice(Srv6Inner.None, OptionValues.Srv6Inners)).ToList();
        element.RejectUnknownKeys();
        return sid;
    }

    public static void Validate(SfcProxyOptions options, List<string> failures)
    {
        var srv6 = options.Srv6;
        var accepted = options.Encapsulations.Contains(Encapsulation.Srv6);
        if (accepted && srv6.Sids.Count == 0)
            failures.Add($"{Path}:Sids: required (at least one proxy SID) when Encapsulations lists \"srv6\"");
        if (!accepted && srv6.Sids.Count > 0)
            failures.Add($"{Path}:Sids: given, but Encapsulations does not list \"srv6\": add it, or remove the SIDs");
        if (srv6.Sids.Count > SfcLimits.Srv6MaxSids)
            failures.Add($"{Path}:Sids: {srv6.Sids.Count} SIDs, at most {SfcLimits.Srv6MaxSids} are supported");
        var seen = new HashSet<IPAddress>();
        for (var i = 0; i < srv6.Sids.Count; i++)
        {
            var sid = srv6.Sids[i];
            var path = $"{Path}:Sids:{i}";
            if (sid is null)
            {
                failures.Add($"{path}: empty entry");
                continue;
            }
            if (Unicast6(sid.Sid, $"{path}:Sid", failures) is { } address && !seen.Add(address))
                failures.Add($"{path}:Sid: {address} is listed twice");
            if (sid.Inner.Count == 0)
                failures.Add($"{path}:Inner: name at least one of {OptionValues.Srv6Inners.Accepted}");
            for (var j = 0; j < sid.Inner.Count; j++)
            {
                if (!OptionValues.Srv6Inners.IsDefined(sid.Inner[j]))
                    failures.Add($"{path}:Inner:{j}: '{sid.Inner[j]}' is not one of {OptionValues.Srv6Inners.Accepted}");
            }
        }

        if (srv6.Static is { } st)
        {
            Unicast6(st.Source, $"{Path}:Static:Source", failures);
            if (st.Segments.Count is < 1 or > SfcLimits.MaxLabels)
                failures.Add($"{Path}:Static:Segments: {st.Segments.Count} segments, 1..{SfcLimits.MaxLabels} are supported");
            for (var i = 0; i < st.Segments.Count; i++)
                Unicast6(st.Segments[i], $"{Path}:Static:Segments:{i}", failures);
            if (st.HopLimit is < 1 or > 255)
                failures.Add($"{Path}:Static:HopLimit: {st.HopLimit} is out of range 1..255");
        }
    }

    /// <summary>An IPv6 unicast address, or a failure naming the field and why.</summary>
    private static IPAddress? Unicast6(string? text, string path, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            failures.Add($"{path}: required");
            return null;
        }
        if (!IPAddress.TryParse(text, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6 || address.IsIPv4MappedToIPv6)
        {
            failures.Add($"{path}: '{text}' is not an IPv6 address");
            return null;
        }
        if (address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6Loopback) || address.IsIPv6Multicast)
        {
            failures.Add($"{path}: {address} is not a unicast address a packet can be sent to");
            return null;
        }
        address.ScopeId = 0;
        return address;
    }

    /// <summary>Writes the SIDs and the static header into the datapath's config (the options are valid).</summary>
    public static unsafe SfcConfig Encode(Srv6Options srv6, SfcConfig config)
    {
        var n = Math.Min(srv6.Sids.Count, SfcLimits.Srv6MaxSids);
        config.Srv6SidCount = (uint)n;
        for (var i = 0; i < n; i++)
        {
            IPAddress.Parse(srv6.Sids[i].Sid!).GetAddressBytes().CopyTo(new Span<byte>((byte*)config.Srv6SidAddr + i * 16, 16));
            uint inner = 0;
            foreach (var t in srv6.Sids[i].Inner)
                inner |= (uint)t;
            config.Srv6SidInner[i] = inner;
        }
        if (srv6.Static is { } st)
        {
            var header = StaticHeader(IPAddress.Parse(st.Source!), st.Segments.Select(IPAddress.Parse).ToArray(), (byte)st.HopLimit);
            config.StaticSrv6Len = (uint)header.Length;
            header.CopyTo(new Span<byte>(config.StaticSrv6, SfcLimits.Srv6StaticMaxLength));
        }
        return config;
    }

    /// <summary>
    /// An outer IPv6 header and SRH (RFC 8754 2) for <paramref name="segments"/> (first visited first): destination the
    /// first segment, Segment List reversed (Segment List[0] is the last segment), Segments Left = Last Entry = n - 1.
    /// Payload length and the SRH's next header are tc_tx's to set per packet (0 here).
    /// </summary>
    public static byte[] StaticHeader(IPAddress source, IReadOnlyList<IPAddress> segments, byte hopLimit)
    {
        var n = segments.Count;
        var h = new byte[40 + 8 + 16 * n];
        h[0] = 0x60;
        h[6] = 43; // routing header
        h[7] = hopLimit;
        source.GetAddressBytes().CopyTo(h, 8);
        segments[0].GetAddressBytes().CopyTo(h, 24);
        h[41] = (byte)(2 * n); // Hdr Ext Len: 8-octet units after the first 8
        h[42] = 4;             // Routing Type: SRH
        h[43] = (byte)(n - 1); // Segments Left
        h[44] = (byte)(n - 1); // Last Entry
        for (var i = 0; i < n; i++)
            segments[n - 1 - i].GetAddressBytes().CopyTo(h, 48 + 16 * i);
        return h;
    }
}
