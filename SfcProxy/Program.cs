using Microsoft.Extensions.DependencyInjection;
using System.CommandLine;
using SfcProxy.Cli;
using SfcProxy.Proxy;

// The datapath `run` attaches: the BPF programs over libbpf.
Func<IServiceProvider, IProxyDatapath> datapathFactory =
    services => ActivatorUtilities.CreateInstance<BpfProxyDatapath>(services);

var invocation = new InvocationConfiguration
{
    // `run` leaves SIGINT/SIGTERM to the Generic Host, which waits for the datapath to detach;
    // System.CommandLine's own handler would give up after two seconds.
    ProcessTerminationTimeout = null,
};
return await SfcProxyCli.Build(datapathFactory).Parse(args).InvokeAsync(invocation);
