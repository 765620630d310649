using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SfcProxy.Hosting;

namespace SfcProxy.Control;

public static class ControlServiceCollectionExtensions
{
    /// <summary>
    /// Registers the control socket and the core's requests (<c>status</c>, <c>metrics</c>, <c>log-level</c>).
    /// Each module registers its own <see cref="IControlModule"/> in its AddXxx; the server answers for
    /// the modules registered. Hosted services start in registration order: call this after the
    /// modules' datapath services, so the socket answers once they are attached.
    /// </summary>
    public static IServiceCollection AddSfcControl(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LogLevelSwitch>();
        // The metrics request answers from the instance's registry, which the endpoint serves too.
        services.TryAddSingleton<Metrics.InstanceMetrics>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IControlModule, CoreControl>());
        services.AddHostedService<ControlServer>();
        return services;
    }
}
