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
/// <para><b>Live changes survive</b> (with a <see cref="DsrLiveStore"/>): the live changes (<see cref="DsrOverlay"/>:
/// what the config does not say, and the rule between the two), the removing backends and their times
/// are written to the state file before a change is answered, and put back by <see cref="Start"/>
/// (and on SIGHUP, <see cref="Reconfigure"/>, over the config re-read). The backend and service ids
/// are the kernel's: a start over maps an earlier daemon pinned keeps their ids, so the connection
/// table's entries keep naming the same backends.</para>
/// </remarks>
public sealed partial class ActiveDsr(IDsrDatapath datapath, IReadOnlyList<DsrServiceConfig> initial, ILogger<ActiveDsr> logger,
    TimeSpan? removeIdle = null, TimeProvider? time = null, DsrLiveStore? store = null)
{
    /// <summary>Default of <see cref="RemoveIdle"/> (SfcProxy:Dsr:RemoveIdleSeconds).</summary>
    public static readonly TimeSpan DefaultRemoveIdle = TimeSpan.FromSeconds(120);

    private readonly Lock _gate = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    /// <summary>The services of the config in force (the file as read at start or at the last SIGHUP).</summary>
    private IReadOnlyList<DsrServiceConfig> _config = initial;
    /// <summary>The services in force: <see cref="_config"/> with <see cref="_changes"/> on top.</summary>
    private IReadOnlyList<DsrServiceConfig> _services = initial;
    private List<DsrLiveChange> _changes = [];
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

    /// <summary>The live changes in force (what the config does not say).</summary>
    public IReadOnlyList<DsrLiveChange> LiveChanges
    {
        get
        {
            lock (_gate)
                return _changes;
        }
    }

    /// <summary>Where the live changes are kept; null: they are not kept.</summary>
    public string? StatePath => store?.Path;

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
            var service = new DsrServiceKey(vip, port, protocol);
            var changes = DsrOverlay.Record(_changes, _config, service, address,
                backends.FirstOrDefault(b => b.Address.Equals(address))?.Weight, _time.GetUtcNow());
            if (Commit(services, changes, _config) is { } failed)
                return DsrChangeResult.Failed(failed);
            LogChanged(Name(vip, port, protocol), address.ToString(), what);
            return new DsrChangeResult(true, null, _tables);
        }
    }

    /// <summary>
    /// Puts <paramref name="services"/> in force (the live table: <paramref name="config"/> with
    /// <paramref name="changes"/> on top): backends that left their last service start removing, the
    /// tables are rebuilt (ids kept), the state is saved, then the datapath swaps the tables in.
    /// </summary>
    /// <returns>null when applied; else why nothing changed (neither the datapath nor the state file).</returns>
    private string? Commit(List<DsrServiceConfig> services, List<DsrLiveChange> changes, IReadOnlyList<DsrServiceConfig> config)
    {
        // Called under the lock. An address configured anywhere keeps its slot: it is no longer
        // removing. One that left its last service starts removing (from every service it left
        // that is still there); one taken out of a service but still in others only remembers
        // that service.
        var now = _time.GetUtcNow();
        var configured = services.SelectMany(s => s.Backends).Select(b => b.Address).ToHashSet();
        var keys = services.Select(DsrOverlay.Key).ToHashSet();
        var removing = _removing.Where(r => !configured.Contains(r.Address)).ToList();
        var removedFrom = _removedFrom.ToDictionary(kv => kv.Key, kv => kv.Value.ToList());
        foreach (var r in _removing.Except(removing))
            removedFrom[r.Address] = [.. r.Services]; // back in a service: still out of the others
        foreach (var before in _services)
        {
            var key = DsrOverlay.Key(before);
            var after = services.FirstOrDefault(s => DsrOverlay.Key(s) == key);
            foreach (var b in before.Backends.Where(b => after is not null && !after.Backends.Any(x => x.Address.Equals(b.Address))))
                removedFrom[b.Address] = [.. removedFrom.GetValueOrDefault(b.Address) ?? [], key];
        }
        foreach (var (a, left) in removedFrom)
            left.RemoveAll(k => !keys.Contains(k) || services.Any(s => DsrOverlay.Key(s) == k && s.Backends.Any(b => b.Address.Equals(a))));
        var started = new List<Removal>();
        var wasConfigured = _services.SelectMany(s => s.Backends).Select(b => b.Address).ToHashSet();
        foreach (var a in wasConfigured.Where(a => !configured.Contains(a) && removedFrom.GetValueOrDefault(a) is { Count: > 0 }))
        {
            var removal = new Removal(removedFrom[a], a, now);
            started.Add(removal);
            removing.Add(removal);
            removedFrom.Remove(a);
        }
        foreach (var a in removedFrom.Where(kv => kv.Value.Count == 0 || !configured.Contains(kv.Key)).Select(kv => kv.Key).ToList())
            removedFrom.Remove(a);
        DsrTables tables;
        try
        {
            tables = DsrTableBuilder.Build(Effective(services, removing), _tables);
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
        // A backend that starts removing had its id already (kept by the build): its counter now
        // is where its idle time starts, saved with it.
        foreach (var r in started)
        {
            r.BackendId = tables.Backends.Single(b => b.Address.Equals(r.Address)).BackendId;
            r.Packets = datapath.ReadBackendTraffic(r.BackendId).Packets;
        }
        // Saved before the datapath changes and before the answer: a change the operator was
        // told about survives any crash after it.
        var previous = Snapshot(_changes, _removing, _removedFrom);
        try
        {
            Save(Snapshot(changes, removing, removedFrom));
        }
        catch (IOException e)
        {
            return $"the state file {store!.Path} could not be written ({e.Message})";
        }
        try
        {
            datapath.Apply(tables);
        }
        catch (ArgumentException e)
        {
            SaveBack(previous);
            return e.Message;
        }
        catch
        {
            SaveBack(previous);
            throw;
        }
        foreach (var r in _removing.Except(removing))
            LogKept(r.Address.ToString(), r.BackendId);
        _config = config;
        _services = services;
        _changes = changes;
        _removing = removing;
        _removedFrom = removedFrom;
        _tables = tables;
        return null;
    }

    [LoggerMessage(EventId = Hosting.EventIds.DsrApplied, Level = LogLevel.Information, Message = "DSR tables applied: {Services} services, {Backends} backends")]
    private partial void LogApplied(int services, int backends);

    [LoggerMessage(EventId = Hosting.EventIds.DsrBackendChanged, Level = LogLevel.Warning, Message = "DSR service {Service}: backend {Backend} {What}; tables re-applied")]
    private partial void LogChanged(string service, string backend, string what);

    [LoggerMessage(EventId = Hosting.EventIds.DsrBackendKept, Level = LogLevel.Information, Message = "DSR backend {Backend} (id {BackendId}) added back before its purge: slot and flows kept")]
    private partial void LogKept(string backend, uint backendId);
}
