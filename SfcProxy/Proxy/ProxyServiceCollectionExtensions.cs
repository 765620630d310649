using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SfcProxy.Control;
using SfcProxy.Hosting;
using SfcProxy.Metrics;

namespace SfcProxy.Proxy;

public static class ProxyServiceCollectionExtensions
{
    /// <summary>
    /// Registers the SFC proxy: the datapath made by <paramref name="datapathFactory"/>, the service
    /// that attaches it, cache aging and its part of SIGHUP. The options, the control socket and the
    /// reload service are the composition root's; call it only when the file configures the proxy
    /// (SfcProxy:Interfaces), after the modules that must be in force first and before the control server.
    /// </summary>
    public static IServiceCollection AddSfcProxy(this IServiceCollection services, Func<IServiceProvider, IProxyDatapath> datapathFactory)
    {
        services.AddSingleton(datapathFactory);
        // SIGHUP applies the proxy's reloadable settings to the attached datapath.
        services.AddSingleton<IModuleReload, ProxyReload>();
        services.AddHostedService<ProxyService>();
        // Ages out the entries of packets the VNF dropped; after ProxyService, so it starts on an
        // attached datapath and stops before the detach.
        services.TryAddSingleton<CacheAgingStats>();
        services.TryAddSingleton<ICacheAgingStats>(sp => sp.GetRequiredService<CacheAgingStats>());
        services.AddHostedService<CacheAgingService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IControlModule, ProxyControl>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMetricsSource, ProxyMetrics>());
        return services;
    }
}
