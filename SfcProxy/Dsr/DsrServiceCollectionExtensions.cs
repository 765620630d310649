using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Control;
using SfcProxy.Hosting;
using SfcProxy.Metrics;

namespace SfcProxy.Dsr;

public static class DsrServiceCollectionExtensions
{
    /// <summary>
    /// Registers the DSR load balancer: the datapath made by <paramref name="datapathFactory"/>, the
    /// <see cref="ActiveDsr"/> over <c>SfcProxy:Dsr:Services</c> (<see cref="DsrControl"/> answers the dsr
    /// requests) and <see cref="DsrLoadBalancerService"/>, which applies the services at start, with the
    /// live changes of the instance's state file; <see cref="DsrReload"/> applies the file's services on SIGHUP.
    /// Call it only when <see cref="DsrOptions.Enabled"/>, before the control server is added (its tables are in force when the socket answers).
    /// </summary>
    public static IServiceCollection AddSfcDsr(this IServiceCollection services, Func<IServiceProvider, IDsrDatapath> datapathFactory)
    {
        services.TryAddSingleton(datapathFactory);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SfcProxyOptions>>().Value;
            var dsr = options.Dsr;
            return new ActiveDsr(sp.GetRequiredService<IDsrDatapath>(), dsr.ToServiceConfigs(), sp.GetRequiredService<ILogger<ActiveDsr>>(),
                TimeSpan.FromSeconds(dsr.RemoveIdleSeconds), store: new DsrLiveStore(DsrLiveStore.PathFor(options.StateDirectory, options.Instance), options.Instance));
        });
        services.AddHostedService<DsrLoadBalancerService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IControlModule, DsrControl>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMetricsSource, DsrMetrics>());
        services.AddSingleton<IModuleReload, DsrReload>();
        return services;
    }

    /// <summary>Registers the backend side (<see cref="DsrDecapService"/>). Call it only when <see cref="DsrOptions.DecapEnabled"/>.</summary>
    public static IServiceCollection AddSfcDsrDecap(this IServiceCollection services)
    {
        services.AddHostedService<DsrDecapService>();
        return services;
    }
}
