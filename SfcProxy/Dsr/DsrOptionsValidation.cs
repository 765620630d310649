using System.Net;
using System.Net.Sockets;
using SfcProxy.Configuration;

namespace SfcProxy.Dsr;

/// <summary>Checks of the "SfcProxy:Dsr" section, each failure starting with the field's path.</summary>
internal static class DsrOptionsValidation
{
    private const string Root = SfcProxyOptions.SectionName + ":Dsr";
    public const int MinMtu = 576, MaxMtu = 65535;
    /// <summary>The least Mtu with an IPv6 VIP: IPv6's minimum MTU inside the outer IPv6 header.</summary>
    public const int MinMtu6 = DsrLimits.IPv6MinMtu + DsrLimits.Encap6Length;
    public const int MaxRemoveIdleSeconds = 86_400;
    public const int MaxNextHopMaxAgeMs = 60_000;

    /// <param name="existingInterfaces">Interfaces that exist here; null skips the existence check.</param>
    public static void Validate(DsrOptions dsr, IReadOnlySet<string>? existingInterfaces, List<string> failures)
    {
        void Interface(string field, string? name)
        {
            if (string.IsNullOrWhiteSpace(name))
                failures.Add($"{field}: required");
            else if (NetworkInterfaceNames.Problem(name) is { } problem)
                failures.Add($"{field}: {problem}");
            else if (existingInterfaces is not null && !existingInterfaces.Contains(name))
                failures.Add($"{field}: interface '{name}' does not exist in this network namespace");
        }

        if (dsr.Decap is { } decap)
        {
            Interface($"{Root}:Decap:Interface", decap.Interface);
            if (decap.Vips.Count == 0)
                failures.Add($"{Root}:Decap:Vips: name at least one VIP");
            if (decap.Vips.Count > DsrDecapObjects.MaxVips)
                failures.Add($"{Root}:Decap:Vips: {decap.Vips.Count} VIPs, at most {DsrDecapObjects.MaxVips}");
            var seen = new HashSet<IPAddress>();
            for (var i = 0; i < decap.Vips.Count; i++)
            {
                if (!DsrOptions.TryParseIp(decap.Vips[i], out var vip))
                    failures.Add($"{Root}:Decap:Vips:{i}: '{decap.Vips[i]}' is not an IPv4 or IPv6 address");
                else if (!seen.Add(vip))
                    failures.Add($"{Root}:Decap:Vips:{i}: {vip} is listed twice");
            }
        }

        bool lbFields = dsr.Interface is not null || dsr.Source is not null || dsr.SourcePrefix is not null || dsr.Source6 is not null
            || dsr.NextHopMac is not null;
        if (!dsr.Enabled)
        {
            if (lbFields)
                failures.Add($"{Root}:Services: required when Dsr:Interface, Source, SourcePrefix, Source6 or NextHopMac is set (name at least one service)");
            return;
        }
        // What the services need of the fields below: an outer IPv4 source for IPv4 backends, an IPv6
        // one for IPv6 backends, an MTU that leaves IPv6's minimum to an IPv6 VIP's packets.
        bool anyV4Backend = false, anyV6Backend = false, anyV6Vip = false;
        foreach (var s in dsr.Services)
        {
            anyV6Vip |= DsrOptions.TryParseIp(s.Vip, out var v) && v.AddressFamily == AddressFamily.InterNetworkV6;
            foreach (var b in s.Backends)
                if (DsrOptions.TryParseIp(b.Address, out var a))
                    (anyV4Backend, anyV6Backend) = a.AddressFamily == AddressFamily.InterNetwork ? (true, anyV6Backend) : (anyV4Backend, true);
        }

        Interface($"{Root}:Interface", dsr.Interface);
        if (!OptionValues.XdpModes.IsDefined(dsr.XdpMode))
            failures.Add($"{Root}:XdpMode: '{dsr.XdpMode}' is not one of {OptionValues.XdpModes.Accepted}");
        if (dsr.Mtu is < MinMtu or > MaxMtu)
            failures.Add($"{Root}:Mtu: {dsr.Mtu} is out of range {MinMtu}..{MaxMtu}");
        else if (anyV6Vip && dsr.Mtu < MinMtu6)
            failures.Add($"{Root}:Mtu: {dsr.Mtu} is below {MinMtu6}: an IPv6 VIP's packets must get IPv6's minimum MTU of {DsrLimits.IPv6MinMtu} inside the 40-byte outer IPv6 header (RFC 8200 5, RFC 2473 7)");
        if (dsr.HopLimit is < 1 or > 255)
            failures.Add($"{Root}:HopLimit: {dsr.HopLimit} is out of range 1..255");
        int maxMss = Math.Max(dsr.Mtu, MinMtu) - 60;
        if (dsr.MssClamp < -1 || dsr.MssClamp > maxMss || dsr.MssClamp is > 0 and < 88)
            failures.Add($"{Root}:MssClamp: {dsr.MssClamp} is out of range 88..{maxMss} (MTU - 60), 0 for MTU - 60 or -1 for no clamping");

        if (dsr.Source is null && dsr.SourcePrefix is null && anyV4Backend)
            failures.Add($"{Root}:Source: required (or SourcePrefix): the outer IPv4 source address of the IPv4 backends");
        if (dsr.Source is not null && dsr.SourcePrefix is not null)
            failures.Add($"{Root}:SourcePrefix: set either Source or SourcePrefix, not both");
        if (dsr.Source is { } source && !DsrOptions.TryParseV4(source, out _))
            failures.Add($"{Root}:Source: '{source}' is not an IPv4 address");
        if (dsr.SourcePrefix is { } prefix)
        {
            if (!IPNetwork.TryParse(prefix, out var network) || network.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
                failures.Add($"{Root}:SourcePrefix: '{prefix}' is not an IPv4 prefix like \"198.51.100.0/28\" (host bits zero)");
            else if (network.PrefixLength == 0)
                failures.Add($"{Root}:SourcePrefix: '{prefix}': the prefix length must be 1..32");
        }
        if (dsr.Source6 is null && anyV6Backend)
            failures.Add($"{Root}:Source6: required: the outer IPv6 source address of the IPv6 backends");
        else if (dsr.Source6 is { } source6 && (!DsrOptions.TryParseIp(source6, out var s6) || s6.AddressFamily != AddressFamily.InterNetworkV6))
            failures.Add($"{Root}:Source6: '{source6}' is not an IPv6 address");
        if (dsr.NextHopMaxAgeMs is < 0 or > MaxNextHopMaxAgeMs)
            failures.Add($"{Root}:NextHopMaxAgeMs: {dsr.NextHopMaxAgeMs} is out of range 0..{MaxNextHopMaxAgeMs} (0: a FIB lookup per packet)");
        if (dsr.RemoveIdleSeconds is < 1 or > MaxRemoveIdleSeconds)
            failures.Add($"{Root}:RemoveIdleSeconds: {dsr.RemoveIdleSeconds} is out of range 1..{MaxRemoveIdleSeconds}");
        if (dsr.NextHopMac is { } mac && !MacAddressText.TryParse(mac, out _))
            failures.Add($"{Root}:NextHopMac: '{mac}' is not a MAC address like \"02:00:00:00:00:01\"");

        if (dsr.Services.Count > DsrLimits.MaxServices)
            failures.Add($"{Root}:Services: {dsr.Services.Count} services, at most {DsrLimits.MaxServices}");
        var services = new HashSet<(IPAddress, int, byte)>();
        var addresses = new HashSet<IPAddress>();
        for (var i = 0; i < dsr.Services.Count; i++)
        {
            var s = dsr.Services[i];
            string path = $"{Root}:Services:{i}";
            bool vipOk = DsrOptions.TryParseIp(s.Vip, out var vip);
            if (!vipOk && s.Vip is not null)
                failures.Add($"{path}:Vip: '{s.Vip}' is not an IPv4 or IPv6 address");
            if (s.Port is < 1 or > 65535)
                failures.Add($"{path}:Port: {s.Port} is out of range 1..65535");
            var protocol = DsrOptions.ProtocolNumber(s.Protocol);
            if (protocol is null)
                failures.Add($"{path}:Protocol: '{s.Protocol}' is not one of tcp, udp");
            if (vipOk && protocol is { } p && !services.Add((vip, s.Port, p)))
                failures.Add($"{path}: {vip}:{s.Port}/{DsrOptions.ProtocolName(p)} is defined twice");
            if (s.Backends.Count == 0)
                failures.Add($"{path}:Backends: name at least one backend");
            var seen = new HashSet<IPAddress>();
            for (var j = 0; j < s.Backends.Count; j++)
            {
                var b = s.Backends[j];
                if (!DsrOptions.TryParseIp(b.Address, out var address))
                {
                    if (b.Address is not null)
                        failures.Add($"{path}:Backends:{j}:Address: '{b.Address}' is not an IPv4 or IPv6 address");
                }
                else if (vipOk && vip.AddressFamily == AddressFamily.InterNetworkV6 && address.AddressFamily != AddressFamily.InterNetworkV6)
                    failures.Add($"{path}:Backends:{j}:Address: {address} is IPv4, the VIP IPv6: an IPv6 VIP needs IPv6 backends (IPv6 in IPv4 is not supported)");
                else if (!seen.Add(address))
                    failures.Add($"{path}:Backends:{j}:Address: {address} is listed twice");
                else
                    addresses.Add(address);
                if (b.Weight is < 0 or > 65535)
                    failures.Add($"{path}:Backends:{j}:Weight: {b.Weight} is out of range 0..65535 (0 drains)");
            }
        }
        if (addresses.Count >= DsrLimits.MaxBackends)
            failures.Add($"{Root}:Services: {addresses.Count} distinct backends, at most {DsrLimits.MaxBackends - 1}");
    }
}
