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
    /// <param name="reloadRequests">SIGHUP, listened for since the process started (`sfcproxy run`);
    /// null: reloads only on request.</param>
    public static HostApplicationBuilder CreateBuilder(string configPath, Func<IServiceProvider, IProxyDatapath> datapathFactory,
        ReloadRequests? reloadRequests = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [] });
        // Only our file (plus SFCPROXY_ environment overrides): an appsettings.json that happens to
        // sit in the working directory must not change how the proxy attaches.
        builder.Configuration.Sources.Clear();
        ConfigFile.AddTo(builder.Configuration, configPath);
        var logLevel = new LogLevelSwitch();
        builder.Services.AddSingleton(logLevel);
        builder.Logging.AddSfcProxyLogging(logLevel);
        // Run by systemd (Type=notify): READY=1 once the host has started, STOPPING=1 on stop, SIGTERM
        // as the stop signal, and log lines in the journal's format. Nothing changes otherwise.
        builder.Services.AddSystemd();
        if (reloadRequests is not null)
            builder.Services.AddSingleton(reloadRequests);
        // Owns the instance before any module below loads or attaches anything, and gives it up
        // after all of them have stopped (hosted services stop in reverse order).
        builder.Services.AddHostedService<InstanceOwnership>();
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
