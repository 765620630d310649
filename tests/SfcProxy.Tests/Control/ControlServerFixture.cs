using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SfcProxy.Configuration;
using SfcProxy.Control;
using SfcProxy.Hosting;
using SfcProxy.Metrics;
using SfcProxy.Proxy;

namespace SfcProxy.Tests.Control;

/// <summary>A control server on a unique socket under /tmp, torn down (directory included) on dispose.</summary>
internal sealed class ControlServerFixture : IAsyncDisposable
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"sfcproxy-test-{Guid.NewGuid():N}");
    public string SocketPath => Path.Combine(Directory, "ctl.sock");
    public FakeDatapath Datapath { get; }
    public ControlServer Server { get; }
    public SfcProxyOptions Options { get; }

    public LogLevelSwitch LogLevel { get; } = new();

    /// <summary>The families the metrics request answers from (the daemon's HTTP endpoint serves the same registry).</summary>
    public InstanceMetrics Metrics { get; }

    private ControlServerFixture(FakeDatapath datapath, ControlSessionLimits? limits, Action<SfcProxyOptions>? configure,
        SfcProxy.Policy.ActivePolicy? policy, SfcProxy.Dsr.ActiveDsr? dsr)
    {
        Datapath = datapath;
        Options = new SfcProxyOptions
        {
            Instance = "test",
            Interfaces = { Ingress = "lo", Egress = "lo" },
            Socket = { Path = SocketPath },
        };
        configure?.Invoke(Options);
        // The modules as the composition root registers them: the core and the SFC proxy always here,
        // policy and DSR when the test runs them.
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        var logger = NullLogger<ControlServer>.Instance;
        var sources = new List<IMetricsSource> { new ProxyMetrics(datapath) };
        if (policy is not null)
            sources.Add(new SfcProxy.Policy.PolicyMetrics(policy));
        if (dsr is not null)
            sources.Add(new SfcProxy.Dsr.DsrMetrics(dsr));
        Metrics = new InstanceMetrics(options, sources);
        var modules = new List<IControlModule> { new CoreControl(options, LogLevel, Metrics, logger), new ProxyControl(options, datapath, logger) };
        if (policy is not null)
            modules.Add(new SfcProxy.Policy.PolicyControl(policy, logger));
        if (dsr is not null)
            modules.Add(new SfcProxy.Dsr.DsrControl(dsr, logger));
        Server = new ControlServer(options, modules, TimeProvider.System, logger)
        {
            Limits = limits ?? ControlSessionLimits.Default,
        };
    }

    public static async Task<ControlServerFixture> StartAsync(FakeDatapath? datapath = null, ControlSessionLimits? limits = null,
        Action<SfcProxyOptions>? configure = null, SfcProxy.Policy.ActivePolicy? policy = null, SfcProxy.Dsr.ActiveDsr? dsr = null)
    {
        var fixture = new ControlServerFixture(datapath ?? new FakeDatapath(), limits, configure, policy, dsr);
        await fixture.Server.StartAsync(CancellationToken.None);
        return fixture;
    }

    public async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
        return socket;
    }

    /// <summary>One connection, one line each way.</summary>
    public async Task<string> AskAsync(string line)
    {
        using var socket = await ConnectAsync();
        using var connection = new LineConnection(socket);
        return await connection.AskAsync(line);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync(CancellationToken.None);
        Server.Dispose();
        if (System.IO.Directory.Exists(Directory))
            System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>Line-at-a-time client side of a test connection.</summary>
internal sealed class LineConnection(Socket socket) : IDisposable
{
    private readonly NetworkStream _stream = new(socket, ownsSocket: false);
    private StreamReader? _reader;

    public async Task SendAsync(string text) => await _stream.WriteAsync(Encoding.UTF8.GetBytes(text));

    public async Task<string?> ReadLineAsync()
    {
        _reader ??= new StreamReader(_stream, Encoding.UTF8, leaveOpen: true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _reader.ReadLineAsync(timeout.Token);
    }

    public async Task<string> AskAsync(string line)
    {
        await SendAsync(line + "\n");
        return await ReadLineAsync() ?? throw new InvalidOperationException("connection closed without an answer");
    }

    public void Dispose()
    {
        _reader?.Dispose();
        _stream.Dispose();
    }
}
