using Microsoft.Extensions.Configuration;
using SfcProxy.Datapath;

namespace SfcProxy.Configuration;

/// <summary>
/// Fills <see cref="SfcProxyOptions"/> from the "SfcProxy" section. Conversion problems land in
/// <see cref="SfcProxyOptions.BindingFailures"/> for the validator to report with everything else.
/// </summary>
internal static class SfcProxyOptionsBinder
{
    public static void Bind(IConfigurationSection section, SfcProxyOptions options)
    {
        var root = new ConfigSectionReader(section, options.BindingFailures);

        options.Instance = root.String(nameof(options.Instance), options.Instance)!;
        var encaps = root.Array(nameof(options.Encapsulations)).ToList();
        if (encaps.Count > 0)
            options.Encapsulations = encaps.Select(e => e.OwnChoice(Encapsulation.None, OptionValues.Encapsulations)).ToList();
        else if (root.IsPresent(nameof(options.Encapsulations)))
            options.Encapsulations = []; // written empty: refused by the validator, never the default

        options.KeyMode = root.Choice(nameof(options.KeyMode), options.KeyMode, OptionValues.KeyModes);
        options.XdpMode = root.Choice(nameof(options.XdpMode), options.XdpMode, OptionValues.XdpModes);
        options.ConsumedSegments = root.Int(nameof(options.ConsumedSegments), options.ConsumedSegments);
        options.MissPolicy = root.Choice(nameof(options.MissPolicy), options.MissPolicy, OptionValues.MissPolicies);
        options.PinRoot = root.String(nameof(options.PinRoot), options.PinRoot)!;
        options.DisableGro = root.Bool(nameof(options.DisableGro), options.DisableGro);
        options.DetachOnStop = root.Bool(nameof(options.DetachOnStop), options.DetachOnStop);
        options.LatencySampleEvery = root.Int(nameof(options.LatencySampleEvery), options.LatencySampleEvery);
        options.LogLevel = root.Choice(nameof(options.LogLevel), options.LogLevel, OptionValues.LogLevels);

        var interfaces = root.Object(nameof(options.Interfaces));
        options.Interfaces.Ingress = interfaces.String(nameof(ProxyInterfacesOptions.Ingress), options.Interfaces.Ingress);
        options.Interfaces.Egress = interfaces.String(nameof(ProxyInterfacesOptions.Egress), options.Interfaces.Egress);
        options.Interfaces.Vnf = interfaces.String(nameof(ProxyInterfacesOptions.Vnf), options.Interfaces.Vnf);
        interfaces.RejectUnknownKeys();

        var stack = root.Array(nameof(options.StaticStack));
        if (stack.Any())
            options.StaticStack = stack.Select(BindLabelEntry).ToList();

        var cache = root.Object(nameof(options.Cache));
        options.Cache.SizeGiven = cache.Has(nameof(CacheOptions.Size));
        options.Cache.Size = cache.Int(nameof(CacheOptions.Size), options.Cache.Size);
        options.Cache.MaxAge = cache.Duration(nameof(CacheOptions.MaxAge), options.Cache.MaxAge);
        cache.RejectUnknownKeys();

        var metadata = root.Object(nameof(options.Metadata));
        if (metadata.String(nameof(MetadataOptions.MarkMask), null) is { } mask)
        {
            if (MetadataOptions.TryParseMask(mask, out var parsed))
                options.Metadata.MarkMask = parsed;
            else
                options.BindingFailures.Add($"{metadata.Path}:{nameof(MetadataOptions.MarkMask)}: '{mask}' is not a 32-bit mask (\"0xffff0000\" or a number)");
        }
        options.Metadata.Fingerprint = metadata.Choice(nameof(MetadataOptions.Fingerprint), options.Metadata.Fingerprint, OptionValues.Fingerprints);
        metadata.RejectUnknownKeys();
        // Metadata mode: the cache cannot hold more slots than the mark bits can name (a size the
        // file gives is checked against them by the validator). Its own default is smaller: its
        // packets are in the VNF for microseconds, and the mask's bits above the slot index carry
        // the slot's generation, which tells a late packet's key from the slot's next owner.
        if (options.KeyMode == KeyMode.Metadata && !options.Cache.SizeGiven)
            options.Cache.Size = (int)Math.Min(CacheOptions.DefaultMetadataSize, MetadataOptions.Capacity(options.Metadata.MarkMask));

        var nsh = root.Object(nameof(options.Nsh));
        options.Nsh.NextHopMac = nsh.String(nameof(NshOptions.NextHopMac), options.Nsh.NextHopMac);
        nsh.RejectUnknownKeys();

        var socket = root.Object(nameof(options.Socket));
        options.Socket.Path = socket.String(nameof(ControlSocketOptions.Path), options.Socket.Path);
        options.Socket.Group = socket.String(nameof(ControlSocketOptions.Group), options.Socket.Group);
        socket.RejectUnknownKeys();

        var policy = root.Object(nameof(options.Policy));
        var policyFiles = policy.Array(nameof(PolicyOptions.Files)).ToList();
        if (policyFiles.Count > 0)
            options.Policy.Files = policyFiles.Select(f => f.OwnString()).ToList();
        var policyInterfaces = policy.Array(nameof(PolicyOptions.Interfaces)).ToList();
        if (policyInterfaces.Count > 0)
            options.Policy.Interfaces = policyInterfaces.Select(i => i.OwnString()).ToList();
        policy.RejectUnknownKeys();

        BindDsr(root.Object(nameof(options.Dsr)), options.Dsr);

        root.RejectUnknownKeys();
    }

    private static void BindDsr(ConfigSectionReader dsr, DsrOptions options)
    {
        options.Interface = dsr.String(nameof(DsrOptions.Interface), options.Interface);
        options.XdpMode = dsr.Choice(nameof(DsrOptions.XdpMode), options.XdpMode, OptionValues.XdpModes);
        options.Mtu = dsr.Int(nameof(DsrOptions.Mtu), options.Mtu);
        options.MssClamp = dsr.Int(nameof(DsrOptions.MssClamp), options.MssClamp);
        options.Source = dsr.String(nameof(DsrOptions.Source), options.Source);
        options.SourcePrefix = dsr.String(nameof(DsrOptions.SourcePrefix), options.SourcePrefix);
        options.NextHopMac = dsr.String(nameof(DsrOptions.NextHopMac), options.NextHopMac);
        options.NextHopMaxAgeMs = dsr.Int(nameof(DsrOptions.NextHopMaxAgeMs), options.NextHopMaxAgeMs);
        options.RemoveIdleSeconds = dsr.Int(nameof(DsrOptions.RemoveIdleSeconds), options.RemoveIdleSeconds);
        var services = dsr.Array(nameof(DsrOptions.Services)).ToList();
        if (services.Count > 0)
            options.Services = services.Select(BindDsrService).ToList();
        if (dsr.Has(nameof(DsrOptions.Decap)))
        {
            var decap = dsr.Object(nameof(DsrOptions.Decap));
            options.Decap = new DsrDecapOptions { Interface = decap.String(nameof(DsrDecapOptions.Interface), null) };
            var vips = decap.Array(nameof(DsrDecapOptions.Vips)).ToList();
            if (vips.Count > 0)
                options.Decap.Vips = vips.Select(v => v.OwnString()).ToList();
            decap.RejectUnknownKeys();
        }
        else
            dsr.Object(nameof(DsrOptions.Decap));
        dsr.RejectUnknownKeys();
    }

    private static DsrServiceOptions BindDsrService(ConfigSectionReader element)
    {
        var service = new DsrServiceOptions();
        element.Require(nameof(service.Vip));
        element.Require(nameof(service.Port));
        service.Vip = element.String(nameof(service.Vip), service.Vip);
        service.Port = element.Int(nameof(service.Port), service.Port);
        service.Protocol = element.String(nameof(service.Protocol), service.Protocol)!;
        var backends = element.Array(nameof(service.Backends)).ToList();
        service.Backends = backends.Select(b =>
        {
            var backend = new DsrBackendOptions();
            b.Require(nameof(backend.Address));
            backend.Address = b.String(nameof(backend.Address), backend.Address);
            backend.Weight = b.Int(nameof(backend.Weight), backend.Weight);
            b.RejectUnknownKeys();
            return backend;
        }).ToList();
        element.RejectUnknownKeys();
        return service;
    }

    private static LabelEntryOptions BindLabelEntry(ConfigSectionReader element)
    {
        var entry = new LabelEntryOptions();
        // Label 0 is a real label (IPv4 explicit null), so a missing label must not default to it.
        element.Require(nameof(entry.Label));
        entry.Label = element.Int(nameof(entry.Label), entry.Label);
        entry.Ttl = element.Int(nameof(entry.Ttl), entry.Ttl);
        entry.Tc = element.Int(nameof(entry.Tc), entry.Tc);
        element.RejectUnknownKeys();
        return entry;
    }
}
