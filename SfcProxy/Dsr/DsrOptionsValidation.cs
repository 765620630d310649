using System.Net;
using System.Net.Sockets;
using SfcProxy.Configuration;

namespace SfcProxy.Dsr;

/// <summary>Checks of the "SfcProxy:Dsr" section, each failure starting with the field's path.</summary>
internal static class DsrOptionsValidation
{
    private const string Root = SfcProxyOptions.SectionName + ":Dsr";
    public const int MinMtu = 576, MaxMtu = 65535;
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
                failures.Add($"{Root}:Decap:Vips: name at least one IPv4 VIP");
            if (decap.Vips.Count > DsrDecapObjects.MaxVips)
                failures.Add($"{Root}:Decap:Vips: {decap.Vips.Count} VIPs, at most {DsrDecapObjects.MaxVips}");
            var seen = new HashSet<IPAddress>();
            for (var i = 0; i < decap.Vips.Count; i++)
            {
                if (!DsrOptions.TryParseV4(decap.Vips[i], out var vip))
                    failures.Add($"{Root}:Decap:Vips:{i}: '{decap.Vips[i]}' is not an IPv4 address (IP-in-IP is IPv4 only)");
                else if (!seen.Add(vip))
                    failures.Add($"{Root}:Decap:Vips:{i}: {vip} is listed twice");
            }
        }

        bool lbFields = dsr.Interface is not null || dsr.Source is not null || dsr.SourcePrefix is not null || dsr.NextHopMac is not null;
        if (!dsr.Enabled)
        {
            if (lbFields)
                failures.Add($"{Root}:Services: required when Dsr:Interface, Source, SourcePrefix or NextHopMac is set (name at least one service)");
            return;
        }

        Interface($"{Root}:Interface", dsr.Interface);
        if (!OptionValues.XdpModes.IsDefined(dsr.XdpMode))
            failures.Add($"{Root}:XdpMode: '{dsr.XdpMode}' is not one of {OptionValues.XdpModes.Accepted}");
        if (dsr.Mtu is < MinMtu or > MaxMtu)
            failures.Add($"{Root}:Mtu: {dsr.Mtu} is out of range {MinMtu}..{MaxMtu}");
        int maxMss = Math.Max(dsr.Mtu, MinMtu) - 60;
        if (dsr.MssClamp < -1 || dsr.MssClamp > maxMss || dsr.MssClamp is > 0 and < 88)
            failures.Add($"{Root}:MssClamp: {dsr.MssClamp} is out of range 88..{maxMss} (MTU - 60), 0 for MTU - 60 or -1 for no clamping");

        if (dsr.Source is null && dsr.SourcePrefix is null)
            failures.Add($"{Root}:Source: required (or SourcePrefix): the outer IPv4 source address");
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
            bool vipOk = DsrOptions.TryParseV4(s.Vip, out var vip);
            if (!vipOk && s.Vip is not null)
                failures.Add($"{path}:Vip: '{s.Vip}' is not an IPv4 address (IP-in-IP is IPv4 only)");
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
                if (!DsrOptions.TryParseV4(b.Address, out var address))
                {
                    if (b.Address is not null)
                        failures.Add($"{path}:Backends:{j}:Address: '{b.Address}' is not an IPv4 address");
                }
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
