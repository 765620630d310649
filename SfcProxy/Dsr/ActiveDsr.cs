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
/// <remarks>
/// <para><b>Removal drains.</b> <see cref="RemoveBackend"/> takes the backend out of the service's
/// Maglev table at once (no new flows), but when the address is in no other service its slot (id
/// and address in the datapath) stays alive: the backend is <i>removing</i>, built into the tables
/// with weight 0, so connection-table entries naming it keep their flows on it. <see cref="Sweep"/>
/// (every <see cref="SweepInterval"/>) purges it once no connection entry names it, or once its
/// packet counter has not moved for <see cref="RemoveIdle"/> (entries outlive their flows: the LRU
/// table only forgets them when full, so "no entries" alone may never come). Purging rebuilds the
/// tables without it (the datapath clears its address), then deletes the connection entries naming
/// its id, so the id is free for reuse with no stale entry pointing at it. Adding the address back
/// (to any service) before the purge cancels it: same id, its flows never noticed.</para>
/// <para>A backend removed from one service but still in another keeps its slot anyway and is not
/// removing yet; its flows of the old service keep reaching it through the connection table. When
/// it leaves its last service it is removing from all the services it left.</para>
/// </remarks>
public sealed partial class ActiveDsr(IDsrDatapath datapath, IReadOnlyList<DsrServiceConfig> initial, ILogger<ActiveDsr> logger,
    TimeSpan? removeIdle = null, TimeProvider? time = null)
{
    /// <summary>Default of <see cref="RemoveIdle"/> (SfcProxy:Dsr:RemoveIdleSeconds).</summary>
    public static readonly TimeSpan DefaultRemoveIdle = TimeSpan.FromSeconds(120);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private IReadOnlyList<DsrServiceConfig> _services = initial;
    private List<Removal> _removing = [];
    /// <summary>Services each address was removed from while still in others (it becomes removing, from all of them, when it leaves the last).</summary>
    private Dictionary<IPAddress, List<DsrServiceKey>> _removedFrom = [];
    private DsrTables? _tables;

    public IDsrDatapath Datapath => datapath;

    /// <summary>How long a removing backend may go without a packet before its slot is purged.</summary>
    public TimeSpan RemoveIdle { get; } = removeIdle ?? DefaultRemoveIdle;

    /// <summary>How often the host should call <see cref="Sweep"/>: a quarter of <see cref="RemoveIdle"/>, 1 to 15 s.</summary>
    public TimeSpan SweepInterval => TimeSpan.FromTicks(Math.Clamp(RemoveIdle.Ticks / 4, TimeSpan.TicksPerSecond, 15 * TimeSpan.TicksPerSecond));

    /// <summary>The service config in force (removing backends are not in it: see <see cref="ReadRemoving"/>).</summary>
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
            var tables = DsrTableBuilder.Build(Effective(_services, _removing), _tables);
            datapath.Apply(tables);
            _tables = tables;
            LogApplied(_services.Count, tables.Backends.Count);
        }
    }

    /// <summary>Adds a backend; a removing one comes back with its slot (and its flows) as they are.</summary>
    public DsrChangeResult AddBackend(IPAddress vip, ushort port, byte protocol, IPAddress address, uint weight) =>
        Change(vip, port, protocol, address, backends =>
        {
            if (backends.Any(b => b.Address.Equals(address)))
                return (null, $"backend {address} is already in service {Name(vip, port, protocol)} (use weight to change it)");
            return ([.. backends, new DsrBackendConfig(address, weight)], null);
        }, $"added with weight {weight}");

    /// <summary>Removes a backend: no new flows at once; its slot lives on while its flows do (see the remarks).</summary>
    public DsrChangeResult RemoveBackend(IPAddress vip, ushort port, byte protocol, IPAddress address) =>
        Change(vip, port, protocol, address, backends =>
        {
            if (!backends.Any(b => b.Address.Equals(address)))
                return (null, NotIn(vip, port, protocol, address));
            return (backends.Where(b => !b.Address.Equals(address)).ToList(), null);
        }, "removed (no new flows; its slot stays while its flows do)");

    public DsrChangeResult SetWeight(IPAddress vip, ushort port, byte protocol, IPAddress address, uint weight) =>
        Change(vip, port, protocol, address, backends =>
        {
            if (!backends.Any(b => b.Address.Equals(address)))
                return (null, NotIn(vip, port, protocol, address));
            return (backends.Select(b => b.Address.Equals(address) ? b with { Weight = weight } : b).ToList(), null);
        }, weight == 0 ? "draining (weight 0)" : $"weight set to {weight}");

    public static string Name(IPAddress vip, ushort port, byte protocol) =>
        $"{vip}:{port}/{DsrOptions.ProtocolName(protocol)}";

    private string NotIn(IPAddress vip, ushort port, byte protocol, IPAddress address)
    {
        // Called under the lock (from Change).
        var removing = _removing.FirstOrDefault(r => r.Address.Equals(address) && r.Services.Contains(new DsrServiceKey(vip, port, protocol)));
        return removing is null
            ? $"backend {address} is not in service {Name(vip, port, protocol)}"
            : $"backend {address} is being removed from service {Name(vip, port, protocol)} (add it again to keep it)";
    }

    /// <summary>The services as the tables are built: each with its removing backends at weight 0 (ids kept, no Maglev slots).</summary>
    private static List<DsrServiceConfig> Effective(IReadOnlyList<DsrServiceConfig> services, IReadOnlyList<Removal> removing) =>
        services.Select(s =>
        {
            var key = new DsrServiceKey(s.Vip, s.Port, s.Protocol);
            var extra = removing.Where(r => r.Services.Contains(key)).Select(r => new DsrBackendConfig(r.Address, 0)).ToList();
            return extra.Count == 0 ? s : s with { Backends = [.. s.Backends, .. extra] };
        }).ToList();

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

            // An address configured anywhere keeps its slot: it is no longer removing. One that
            // this change took out of its last service starts removing (from every service it
            // left); one taken out of a service but still in others only remembers that service.
            var configured = services.SelectMany(s => s.Backends).Select(b => b.Address).ToHashSet();
            var removing = _removing.Where(r => !configured.Contains(r.Address)).ToList();
            var removedFrom = _removedFrom.ToDictionary(kv => kv.Key, kv => kv.Value.ToList());
            foreach (var r in _removing.Except(removing))
                removedFrom[r.Address] = [.. r.Services]; // back in a service: still out of the others
            var service = new DsrServiceKey(vip, port, protocol);
            bool removed = _services[index].Backends.Any(b => b.Address.Equals(address)) && !backends.Any(b => b.Address.Equals(address));
            if (removed)
                removedFrom[address] = [.. removedFrom.GetValueOrDefault(address) ?? [], service];
            foreach (var (a, left) in removedFrom)
                left.RemoveAll(k => services.Any(s => new DsrServiceKey(s.Vip, s.Port, s.Protocol) == k && s.Backends.Any(b => b.Address.Equals(a))));
            Removal? started = null;
            if (removed && !configured.Contains(address))
            {
                started = new Removal(removedFrom[address], address, _time.GetUtcNow());
                removing.Add(started);
                removedFrom.Remove(address);
            }
            foreach (var a in removedFrom.Where(kv => kv.Value.Count == 0 || !configured.Contains(kv.Key)).Select(kv => kv.Key).ToList())
                removedFrom.Remove(a);
            DsrTables tables;
            try
            {
                tables = DsrTableBuilder.Build(Effective(services, removing), _tables);
                datapath.Apply(tables);
            }
            catch (ArgumentException e)
            {
                return DsrChangeResult.Failed(e.Message);
            }
            if (started is not null)
            {
                started.BackendId = tables.Backends.Single(b => b.Address.Equals(address)).BackendId;
                started.Packets = datapath.ReadBackendTraffic(started.BackendId).Packets;
            }
            foreach (var r in _removing.Except(removing))
                LogKept(r.Address.ToString(), r.BackendId);
            _services = services;
            _removing = removing;
            _removedFrom = removedFrom;
            _tables = tables;
            LogChanged(Name(vip, port, protocol), address.ToString(), what);
            return new DsrChangeResult(true, null, tables);
        }
    }

    [LoggerMessage(EventId = Hosting.EventIds.DsrApplied, Level = LogLevel.Information, Message = "DSR tables applied: {Services} services, {Backends} backends")]
    private partial void LogApplied(int services, int backends);

    [LoggerMessage(EventId = Hosting.EventIds.DsrBackendChanged, Level = LogLevel.Warning, Message = "DSR service {Service}: backend {Backend} {What}; tables re-applied")]
    private partial void LogChanged(string service, string backend, string what);

    [LoggerMessage(EventId = Hosting.EventIds.DsrBackendKept, Level = LogLevel.Information, Message = "DSR backend {Backend} (id {BackendId}) added back before its purge: slot and flows kept")]
    private partial void LogKept(string backend, uint backendId);
}
