using System.CommandLine;
using SfcProxy.Cli;
using SfcProxy.Proxy;
using SfcProxy.Tests.Control;

namespace SfcProxy.Tests.Cli;

/// <summary>Runs the real command tree in-process with captured output.</summary>
internal sealed class CliRunner
{
    public FakeDatapath Datapath { get; } = new();
    public int DatapathsMade;
    public StringWriter Output { get; } = new();
    public StringWriter Error { get; } = new();

    public Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default)
    {
        Func<IServiceProvider, IProxyDatapath> factory = _ =>
        {
            Interlocked.Increment(ref DatapathsMade);
            return Datapath;
        };
        var configuration = new InvocationConfiguration { Output = Output, Error = Error, ProcessTerminationTimeout = null };
        return SfcProxyCli.Build(factory).Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
