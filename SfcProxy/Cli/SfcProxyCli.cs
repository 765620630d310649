using SfcProxy.Hosting;
using System.CommandLine;
using SfcProxy.Dsr;
using SfcProxy.Policy;
using SfcProxy.Proxy;

namespace SfcProxy.Cli;

/// <summary>The `sfcproxy` command tree.</summary>
internal static class SfcProxyCli
{
    /// <param name="datapathFactory">Makes the datapath `run` attaches (see Program.cs).</param>
    /// <param name="reloadRequests">SIGHUP as listened for since the process started (`run` only).</param>
    public static RootCommand Build(Func<IServiceProvider, IProxyDatapath> datapathFactory, ReloadRequests? reloadRequests = null)
    {
        var root = new RootCommand("SfcProxy: caching SFC proxy (SR-MPLS and NSH) for SFC-unaware VNFs (XDP pop, tc egress push), with an identity-based policy module");
        root.Subcommands.Add(RunCommand.Create(datapathFactory, reloadRequests));
        root.Subcommands.Add(ValidateCommand.Create());
        root.Subcommands.Add(StatsCommand.Create());
        root.Subcommands.Add(CacheCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(MetricsCommand.Create());
        root.Subcommands.Add(LogLevelCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(DetachCommand.Create());
        root.Subcommands.Add(LatencyCommand.Create());
        root.Subcommands.Add(PolicyCommand.Create());
        root.Subcommands.Add(DsrCommand.Create());
        return root;
    }
}
