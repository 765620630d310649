using System.CommandLine;
using SfcProxy.Cli;
using SfcProxy.Proxy;

// The datapath `run` attaches. Plug the libbpf implementation in here, e.g.
//   services => ActivatorUtilities.CreateInstance<BpfProxyDatapath>(services)
Func<IServiceProvider, IProxyDatapath> datapathFactory = _ => new NotYetWiredDatapath();

var invocation = new InvocationConfiguration
{
    // `run` leaves SIGINT/SIGTERM to the Generic Host, which waits for the datapath to detach;
    // System.CommandLine's own handler would give up after two seconds.
    ProcessTerminationTimeout = null,
};
return await SfcProxyCli.Build(datapathFactory).Parse(args).InvokeAsync(invocation);
