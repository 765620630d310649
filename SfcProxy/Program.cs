using Microsoft.Extensions.DependencyInjection;
using System.CommandLine;
using SfcProxy.Cli;
using SfcProxy.Hosting;
using SfcProxy.Proxy;

// `run` is the daemon: SIGHUP (systemctl reload) must never kill it, not even while it starts, so
// it is caught before anything else happens and queued until the daemon is ready.
ReloadRequests? reloadRequests = args is ["run", ..] ? ReloadRequests.ListenForSighup() : null;

// The datapath `run` attaches: the BPF programs over libbpf.
Func<IServiceProvider, IProxyDatapath> datapathFactory =
    services => ActivatorUtilities.CreateInstance<BpfProxyDatapath>(services);

var invocation = new InvocationConfiguration
{
    // `run` leaves SIGINT/SIGTERM to the Generic Host, which waits for the datapath to detach;
    // System.CommandLine's own handler would give up after two seconds.
    ProcessTerminationTimeout = null,
};
var exitCode = await SfcProxyCli.Build(datapathFactory, reloadRequests).Parse(args).InvokeAsync(invocation);
// The SIGHUP handler lives as long as its registration: keep it until the very end.
GC.KeepAlive(reloadRequests);
return exitCode;
