using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SfcProxy.Configuration;

internal static class SfcProxyOptionsServiceCollectionExtensions
{
    /// <summary>
    /// Binds the "SfcProxy" section and validates it when the host starts, before any hosted service
    /// (and so before the datapath) runs.
    /// </summary>
    /// <param name="sections">Makes the modules' sections afresh for each options object bound.</param>
    /// <param name="validator">Replaces the default validator (tests, validate --no-interface-check).</param>
    public static IServiceCollection AddSfcProxyOptions(
        this IServiceCollection services, IConfiguration configuration, Func<IEnumerable<IOptionsSection>> sections,
        SfcProxyOptionsValidator? validator = null)
    {
        services.AddOptions<SfcProxyOptions>()
            .Configure(options =>
            {
                options.Sections.AddRange(sections());
                SfcProxyOptionsBinder.Bind(configuration.GetSection(SfcProxyOptions.SectionName), options);
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SfcProxyOptions>>(validator ?? new SfcProxyOptionsValidator());
        return services;
    }
}
