using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Control;
using SfcProxy.Metrics;

namespace SfcProxy.Policy;

public static class PolicyServiceCollectionExtensions
{
    /// <summary>
    /// Registers the policy module: the datapath made by <paramref name="datapathFactory"/>, the
    /// <see cref="ActivePolicy"/> over <c>SfcProxy:Policy:Files</c> (<see cref="PolicyControl"/> answers the
    /// policy requests) and <see cref="PolicyService"/>, which applies the files at
    /// start. Call it only when <see cref="PolicyOptions.Enabled"/>, and before the control server is added so
    /// the policy is in force before the control socket answers.
    /// </summary>
    public static IServiceCollection AddSfcPolicy(this IServiceCollection services, Func<IServiceProvider, IPolicyDatapath> datapathFactory)
    {
        services.TryAddSingleton(datapathFactory);
        services.TryAddSingleton(sp => new ActivePolicy(
            sp.GetRequiredService<IPolicyDatapath>(),
            sp.GetRequiredService<IOptions<SfcProxyOptions>>().Value.Policy.Files.ToList(),
            sp.GetRequiredService<ILogger<ActivePolicy>>()));
        services.AddHostedService<PolicyService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IControlModule, PolicyControl>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMetricsSource, PolicyMetrics>());
        return services;
    }
}
