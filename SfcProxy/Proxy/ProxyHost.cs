using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SfcProxy.Configuration;
using SfcProxy.Dsr;
using SfcProxy.Hosting;
using SfcProxy.Policy;

namespace SfcProxy.Proxy;

/// <summary>The Generic Host of `sfcproxy run`.</summary>
internal static class ProxyHost
{
    /// <exception cref="InvalidDataException">The config file is not valid JSON.</exception>
    public static HostApplicationBuilder CreateBuilder(string configPath, Func<IServiceProvider, IProxyDatapath> datapathFactory)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        // Only our file (plus SFCPROXY_ environment overrides): an appsettings.json that happens to
        // sit in the working directory must not change how the proxy attaches.
        builder.Configuration.Sources.Clear();
        ConfigFile.AddTo(builder.Configuration, configPath);
        var logLevel = new LogLevelSwitch();
        builder.Services.AddSingleton(logLevel);
        builder.Logging.AddSfcProxyLogging(logLevel, journal: HostLogging.StdoutIsJournal);
        // The policy module runs when the config names policy files; registered first so the policy
        // is in force before the control socket answers.
        var configured = new SfcProxyOptions();
        SfcProxyOptionsBinder.Bind(builder.Configuration.GetSection(SfcProxyOptions.SectionName), configured);
        if (configured.Policy.Enabled)
            builder.Services.AddSfcPolicy(services => ActivatorUtilities.CreateInstance<BpfPolicyDatapath>(services));
        // The DSR load balancer when the config names services, its backend side when it has Decap.
        if (configured.Dsr.Enabled)
            builder.Services.AddSfcDsr(services => ActivatorUtilities.CreateInstance<BpfDsrDatapath>(services));
        if (configured.Dsr.DecapEnabled)
            builder.Services.AddSfcDsrDecap();
        builder.Services.AddSfcProxy(builder.Configuration, datapathFactory);
        return builder;
    }
}
