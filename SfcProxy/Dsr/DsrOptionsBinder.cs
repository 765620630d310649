using SfcProxy.Configuration;

namespace SfcProxy.Dsr;

/// <summary>Fills <see cref="DsrOptions"/> from the "SfcProxy:Dsr" object; conversion problems become the reader's failures.</summary>
internal static class DsrOptionsBinder
{
    public static void Bind(ConfigSectionReader dsr, DsrOptions options)
    {
        options.Interface = dsr.String(nameof(DsrOptions.Interface), options.Interface);
        options.XdpMode = dsr.Choice(nameof(DsrOptions.XdpMode), options.XdpMode, OptionValues.XdpModes);
        options.Mtu = dsr.Int(nameof(DsrOptions.Mtu), options.Mtu);
        options.MssClamp = dsr.Int(nameof(DsrOptions.MssClamp), options.MssClamp);
        options.Source = dsr.String(nameof(DsrOptions.Source), options.Source);
        options.SourcePrefix = dsr.String(nameof(DsrOptions.SourcePrefix), options.SourcePrefix);
        options.Source6 = dsr.String(nameof(DsrOptions.Source6), options.Source6);
        options.HopLimit = dsr.Int(nameof(DsrOptions.HopLimit), options.HopLimit);
        options.NextHopMac = dsr.String(nameof(DsrOptions.NextHopMac), options.NextHopMac);
        options.NextHopMaxAgeMs = dsr.Int(nameof(DsrOptions.NextHopMaxAgeMs), options.NextHopMaxAgeMs);
        options.RemoveIdleSeconds = dsr.Int(nameof(DsrOptions.RemoveIdleSeconds), options.RemoveIdleSeconds);
        var services = dsr.Array(nameof(DsrOptions.Services)).ToList();
        if (services.Count > 0)
            options.Services = services.Select(BindService).ToList();
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

    private static DsrServiceOptions BindService(ConfigSectionReader element)
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
}
