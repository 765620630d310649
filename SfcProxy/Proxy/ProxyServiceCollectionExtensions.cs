using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SfcProxy.Configuration;
using SfcProxy.Control;
using SfcProxy.Hosting;

namespace SfcProxy.Proxy;

public static class ProxyServiceCollectionExtensions
{
    /// <summary>
    /// Registers one proxy instance: options (validated on start), the datapath made by
    /// <paramref name="datapathFactory"/>, the service that attaches it, cache aging and the control socket.
    /// </summary>
    public static IServiceCollection AddSfcProxy(
        this IServiceCollection services, IConfiguration configuration, Func<IServiceProvider, IProxyDatapath> datapathFactory)
    {
        services.AddSfcProxyOptions(configuration);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(datapathFactory);
        services.TryAddSingleton<LogLevelSwitch>();
        services.TryAddSingleton(_ => ReloadRequests.Manual());
        services.TryAddSingleton<ShutdownFailures>();
        // SIGHUP applies the reloadable settings of the config file to the running instance.
        services.AddSingleton<IReloadHook, ProxyReload>();
        // Hosted services start in registration order and stop in reverse: the datapath is attached
        // before the socket answers, and the socket is gone before the datapath detaches. READY=1
        // goes to systemd once every service has started (UseSystemd's lifetime, ApplicationStarted).
        services.AddHostedService<ProxyService>();
        // Ages out the entries of packets the VNF dropped; after ProxyService, so it starts on an
        // attached datapath and stops before the detach.
        services.TryAddSingleton<CacheAgingStats>();
        services.TryAddSingleton<ICacheAgingStats>(sp => sp.GetRequiredService<CacheAgingStats>());
        services.AddHostedService<CacheAgingService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IControlModule, ProxyControl>());
        services.AddSfcControl();
        // SIGHUPs (queued from the process's first moment) are applied once the host has started.
        services.AddHostedService<ReloadService>();
        return services;
    }
}
