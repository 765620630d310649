using System.Net;
using Microsoft.Extensions.Logging;

namespace SfcProxy.Dsr;

/// <summary>What a backend change did: the tables now in force, or why nothing changed.</summary>
public sealed record DsrChangeResult(bool Applied, string? Error, DsrTables? Tables)
{
    public static DsrChangeResult Failed(string error) => new(false, error, null);
}

/// <summary>
/// The daemon's load-balancer state: the service config in force (started from <c>SfcProxy:Dsr:Services</c>)
/// and the tables built from it. Every change rebuilds the tables from the whole config with the
/// previous tables (so ids stay stable and the connection table stays valid) and swaps them in; a
/// change the builder or the datapath rejects leaves config and datapath as they were.
/// </summary>
public sealed partial class ActiveDsr(IDsrDatapath datapath, IReadOnlyList<DsrServiceConfig> initial, ILogger<ActiveDsr> logger)
{
    private readonly Lock _gate = new();
    private IReadOnlyList<DsrServiceConfig> _services = initial;
    private DsrTables? _tables;

    public IDsrDatapath Datapath => datapath;

    /// <summary>The service config in force.</summary>
    public IReadOnlyList<DsrServiceConfig> Services
    {
        get
        {
            lock (_gate)
                return _services;
        }
    }

    /// <summary>The tables in force; null before <see cref="Start"/>.</summary>
    public DsrTables? Tables
    {
        get
        {
            lock (_gate)
                return _tables;
        }
    }

    /// <summary>Builds and applies the configured services (at start).</summary>
    public void Start()
    {
        lock (_gate)
        {
            var tables = DsrTableBuilder.Build(_services, _tables);
            datapath.Apply(tables);
            _tables = tables;
            LogApplied(_services.Count, tables.Backends.Count);
        }
    }

    public DsrChangeResult AddBackend(IPAddress vip, ushort port, byte protocol, IPAddress address, uint weight) =>
        Change(vip, port, protocol, address, backends =>
        {
            if (backends.Any(b => b.Address.Equals(address)))
                return (null, $"backend {address} is already in service {Name(vip, port, protocol)} (use weight to change it)");
            return ([.. backends, new DsrBackendConfig(address, weight)], null);
        }, $"added with weight {weight}");

    public DsrChangeResult RemoveBackend(IPAddress vip, ushort port, byte protocol, IPAddress address) =>
        Change(vip, port, protocol, address, backends =>
        {
            if (!backends.Any(b => b.Address.Equals(address)))
                return (null, $"backend {address} is not in service {Name(vip, port, protocol)}");
            return (backends.Where(b => !b.Address.Equals(address)).ToList(), null);
        }, "removed");

    public DsrChangeResult SetWeight(IPAddress vip, ushort port, byte protocol, IPAddress address, uint weight) =>
        Change(vip, port, protocol, address, backends =>
        {
            if (!backends.Any(b => b.Address.Equals(address)))
                return (null, $"backend {address} is not in service {Name(vip, port, protocol)}");
            return (backends.Select(b => b.Address.Equals(address) ? b with { Weight = weight } : b).ToList(), null);
        }, weight == 0 ? "draining (weight 0)" : $"weight set to {weight}");

    public static string Name(IPAddress vip, ushort port, byte protocol) =>
        $"{vip}:{port}/{Configuration.DsrOptions.ProtocolName(protocol)}";

    private DsrChangeResult Change(IPAddress vip, ushort port, byte protocol, IPAddress address,
        Func<IReadOnlyList<DsrBackendConfig>, (IReadOnlyList<DsrBackendConfig>? Backends, string? Error)> edit, string what)
    {
        lock (_gate)
        {
            int index = -1;
            for (var i = 0; i < _services.Count; i++)
                if (_services[i].Vip.Equals(vip) && _services[i].Port == port && _services[i].Protocol == protocol)
                    index = i;
            if (index < 0)
                return DsrChangeResult.Failed($"no service {Name(vip, port, protocol)}");
            var (backends, error) = edit(_services[index].Backends);
            if (backends is null)
                return DsrChangeResult.Failed(error!);
            var services = _services.ToList();
            services[index] = services[index] with { Backends = backends };
            DsrTables tables;
            try
            {
                tables = DsrTableBuilder.Build(services, _tables);
                datapath.Apply(tables);
            }
            catch (ArgumentException e)
            {
                return DsrChangeResult.Failed(e.Message);
            }
            _services = services;
            _tables = tables;
            LogChanged(Name(vip, port, protocol), address.ToString(), what);
            return new DsrChangeResult(true, null, tables);
        }
    }

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "DSR tables applied: {Services} services, {Backends} backends")]
    private partial void LogApplied(int services, int backends);

    [LoggerMessage(EventId = 602, Level = LogLevel.Warning, Message = "DSR service {Service}: backend {Backend} {What}; tables re-applied")]
    private partial void LogChanged(string service, string backend, string what);
}
