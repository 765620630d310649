using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace SfcProxy.Metrics;

public static class MetricsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the instance's metric families (each configured module adds its
    /// <see cref="IMetricsSource"/> in its AddXxx) and the optional HTTP endpoint. Hosted services
    /// start in registration order: call this after the control socket's, so the endpoint serves
    /// once the datapaths are attached.
    /// </summary>
    public static IServiceCollection AddSfcMetrics(this IServiceCollection services)
    {
        services.TryAddSingleton<InstanceMetrics>();
        services.AddHostedService<MetricsEndpoint>();
        return services;
    }
}
