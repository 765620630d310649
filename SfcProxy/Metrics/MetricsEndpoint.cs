using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prometheus;
using SfcProxy.Configuration;
using SfcProxy.Hosting;

namespace SfcProxy.Metrics;

/// <summary>
/// The optional Prometheus endpoint: <c>GET /metrics</c> on <c>Metrics:Listen</c> serves the same
/// exposition as the <c>metrics</c> request (<see cref="InstanceMetrics"/>), read from the maps
/// when it is scraped. prometheus-net's Kestrel server, bound to exactly the configured address
/// (the HttpListener-based MetricServer cannot take an IPv6 address). Started after the modules
/// and the control socket, so a scrape finds the datapath attached; a port that cannot be bound
/// fails the start, naming the field: a daemon asked for an endpoint does not run without it.
/// </summary>
internal sealed partial class MetricsEndpoint(IOptions<SfcProxyOptions> options, InstanceMetrics metrics, ILogger<MetricsEndpoint> logger)
    : IHostedService, IAsyncDisposable
{
    public const string Path = "/metrics";

    private KestrelMetricServer? _server;
    private MetricsListenAddress? _address;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Metrics.Listen is not { } listen)
            return Task.CompletedTask;
        // Validated at start (ValidateOnStart): parses.
        _address = MetricsListenAddress.Parse(listen, out _)!;
        var server = new KestrelMetricServer(_address.Host, _address.Port, Path, metrics.Registry);
        try
        {
            server.Start();
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            server.Dispose();
            throw new InvalidOperationException(
                $"{SfcProxyOptions.SectionName}:Metrics:Listen: cannot listen on {_address}: {e.Message}", e);
        }
        _server = server;
        LogListening($"http://{_address}{Path}");
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is null)
            return;
        await _server.StopAsync();
        _server.Dispose();
        _server = null;
        LogStopped(_address!.ToString());
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    [LoggerMessage(EventId = EventIds.MetricsListening, Level = LogLevel.Information, Message = "Prometheus endpoint listening on {Url}")]
    private partial void LogListening(string url);

    [LoggerMessage(EventId = EventIds.MetricsStopped, Level = LogLevel.Information, Message = "Prometheus endpoint on {Address} stopped")]
    private partial void LogStopped(string address);
}
