using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using SfcProxy.Configuration;
using SfcProxy.Control;
using SfcProxy.Dsr;
using SfcProxy.Hosting;
using SfcProxy.Metrics;
using SfcProxy.Policy;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Options;

namespace SfcProxy.Composition;

/// <summary>
/// The Generic Host of `sfcproxy run`: the shared core (instance ownership, options, control socket,
/// reloads) and the modules the config file configures, each only when it does.
/// </summary>
internal static class DaemonHost
{
    /// <exception cref="InvalidDataException">The config file is not valid JSON.</exception>
    /// <param name="proxyDatapathFactory">Makes the SFC proxy's datapath (used only when the file configures the proxy).</param>
    /// <param name="reloadRequests">SIGHUP, listened for since the process started (`sfcproxy run`);
    /// null: reloads only on request.</param>
    public static HostApplicationBuilder CreateBuilder(string configPath, Func<IServiceProvider, IProxyDatapath> proxyDatapathFactory,
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
        builder.Services.AddInstance(builder.Configuration, proxyDatapathFactory, reloadRequests);
        return builder;
    }

    /// <summary>
    /// Registers one instance from <paramref name="configuration"/>: the shared core (options validated
    /// on start, instance ownership, control socket, reloads) and each module the section configures.
    /// </summary>
    public static IServiceCollection AddInstance(this IServiceCollection services, IConfiguration configuration,
        Func<IServiceProvider, IProxyDatapath> proxyDatapathFactory, ReloadRequests? reloadRequests = null)
    {
        services.AddSfcProxyOptions(configuration, Modules.OptionsSections);
        services.TryAddSingleton<LogLevelSwitch>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(reloadRequests ?? ReloadRequests.Manual());
        services.TryAddSingleton<ShutdownFailures>();

        // Hosted services start in registration order and stop in reverse. Owns the instance before
        // any module below loads or attaches anything, and gives it up after all of them have stopped.
        services.AddHostedService<InstanceOwnership>();

        // Which modules run is read from the file here; a file that configures none fails validation
        // (ValidateOnStart) before any of them starts.
        var configured = Modules.NewOptions();
        SfcProxyOptionsBinder.Bind(configuration.GetSection(SfcProxyOptions.SectionName), configured);
        // The policy first, so it is in force before the control socket answers.
        if (configured.Policy.Enabled)
            services.AddSfcPolicy(provider => ActivatorUtilities.CreateInstance<BpfPolicyDatapath>(provider));
        // The DSR load balancer when the config names services, its backend side when it has Decap.
        if (configured.Dsr.Enabled)
            services.AddSfcDsr(provider => ActivatorUtilities.CreateInstance<BpfDsrDatapath>(provider));
        if (configured.Dsr.DecapEnabled)
            services.AddSfcDsrDecap();
        // Without it, its requests are answered as those of a module this instance does not run.
        if (configured.Section<ProxySection>().IsConfigured)
            services.AddSfcProxy(proxyDatapathFactory);

        // The datapaths are attached before the socket answers, and the socket is gone before they
        // detach. READY=1 goes to systemd once every service has started (UseSystemd's lifetime).
        services.AddSfcControl();
        // The Prometheus endpoint, when Metrics:Listen is set: after the socket, on the same families.
        services.AddSfcMetrics();
        // SIGHUPs (queued from the process's first moment) are applied once the host has started:
        // the log level and restart notes here, each configured module's live fields through its IModuleReload.
        services.AddSingleton<IReloadHook, InstanceReload>();
        services.AddHostedService<ReloadService>();
        return services;
    }
}
