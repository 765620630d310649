using System.Net;
using Microsoft.Extensions.Logging;

namespace SfcProxy.Dsr;

// The start, the SIGHUP and the state file of ActiveDsr (see its remarks and DsrOverlay).
public sealed partial class ActiveDsr
{
    /// <summary>
    /// Builds and applies the services (at start): the config's, with the live changes of the state
    /// file on top and its removing backends still removing, over the ids the kernel holds.
    /// </summary>
    /// <exception cref="DsrStateFileException">The state file is there but unreadable: nothing is
    /// loaded or changed (a datapath left attached keeps the tables it has, drains included).</exception>
    public void Start()
    {
        lock (_gate)
        {
            var saved = store?.Load() ?? DsrLiveState.Empty;
            var (services, kept, replaced) = DsrOverlay.Apply(_config, saved.Changes);
            var configured = services.SelectMany(s => s.Backends).Select(b => b.Address).ToHashSet();
            var keys = services.Select(DsrOverlay.Key).ToHashSet();
            // A saved removal holds while its address is in no service and some service it left is
            // still there; otherwise the config has the last word on it.
            var removing = saved.Removing
                .Where(r => !configured.Contains(r.Address) && r.Services.Any(keys.Contains))
                .Select(r => new Removal([.. r.Services.Where(keys.Contains)], r.Address, r.Since) { LastActive = r.LastActive, Packets = r.Packets })
                .ToList();
            var removedFrom = saved.RemovedFrom
                .Where(kv => configured.Contains(kv.Key))
                .Select(kv => (kv.Key, Left: kv.Value.Where(k => keys.Contains(k) && !services.Any(s => DsrOverlay.Key(s) == k && s.Backends.Any(b => b.Address.Equals(kv.Key)))).ToList()))
                .Where(x => x.Left.Count > 0)
                .ToDictionary(x => x.Key, x => x.Left);

            // Ids as the kernel has them (maps an earlier daemon of the instance left pinned): the
            // connection table names backends by id, so they must not move.
            var tables = DsrTableBuilder.Build(Effective(services, removing), datapath.ReadInstalled() ?? _tables);
            datapath.Apply(tables);
            var now = _time.GetUtcNow();
            foreach (var r in removing)
            {
                r.BackendId = tables.Backends.Single(b => b.Address.Equals(r.Address)).BackendId;
                // Packets while no daemon ran (the datapath outlives it) count as activity.
                var packets = datapath.ReadBackendTraffic(r.BackendId).Packets;
                if (packets != r.Packets)
                    (r.Packets, r.LastActive) = (packets, now);
            }
            _services = services;
            _changes = kept;
            _removing = removing;
            _removedFrom = removedFrom;
            _tables = tables;
            foreach (var r in replaced)
                LogReplaced(r.Change.Service.ToString(), r.Change.Address.ToString(), DsrLiveChange.Describe(r.Change.Weight), r.Reason);
            if (saved.Changes.Count > 0 || saved.Removing.Count > 0)
                LogRestored(kept.Count, removing.Count, store!.Path);
            if (replaced.Count > 0 || removing.Count != saved.Removing.Count || removedFrom.Count != saved.RemovedFrom.Count)
                SaveOrLog();
            LogApplied(_services.Count, tables.Backends.Count);
        }
    }

    /// <summary>
    /// SIGHUP: <paramref name="config"/> (the file re-read) becomes the config in force; the live
    /// changes it did not replace stay on top (<see cref="DsrOverlay"/>). Backends the new table no
    /// longer has start removing, as with `dsr backend remove`.
    /// </summary>
    /// <returns>The changes the config replaced, or why nothing changed.</returns>
    public (IReadOnlyList<DsrReplacedChange> Replaced, string? Error) Reconfigure(IReadOnlyList<DsrServiceConfig> config)
    {
        lock (_gate)
        {
            var (services, kept, replaced) = DsrOverlay.Apply(config, _changes);
            if (Commit(services, kept, config) is { } error)
                return ([], error);
            foreach (var r in replaced)
                LogReplaced(r.Change.Service.ToString(), r.Change.Address.ToString(), DsrLiveChange.Describe(r.Change.Weight), r.Reason);
            return (replaced, null);
        }
    }

    private static DsrLiveState Snapshot(List<DsrLiveChange> changes, List<Removal> removing, Dictionary<IPAddress, List<DsrServiceKey>> removedFrom) =>
        new([.. changes],
            [.. removing.Select(r => new DsrSavedRemoval(r.Services, r.Address, r.Since, r.LastActive, r.Packets))],
            removedFrom.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<DsrServiceKey>)[.. kv.Value]));

    /// <summary>Writes the state (no file when there is nothing the config does not say).</summary>
    private void Save(DsrLiveState state)
    {
        if (store is null)
            return;
        if (state.Changes.Count == 0 && state.Removing.Count == 0 && state.RemovedFrom.Count == 0)
            store.Delete();
        else
            store.Save(state, _time.GetUtcNow());
    }

    /// <summary>After the datapath refused a change: the file says again what is in force.</summary>
    private void SaveBack(DsrLiveState state)
    {
        try
        {
            Save(state);
        }
        catch (IOException e)
        {
            LogSaveFailed(store!.Path, e);
        }
    }

    /// <summary>Saves the state in force; a failure is logged (a sweep's purge is not undone for it: a
    /// purged backend the file still lists comes back removing, without flows, and goes again).</summary>
    private void SaveOrLog() => SaveBack(Snapshot(_changes, _removing, _removedFrom));

    [LoggerMessage(EventId = Hosting.EventIds.DsrLiveRestored, Level = LogLevel.Warning,
        Message = "DSR live changes restored from {Path}: {Changes} changes the config file does not say, {Removing} backends still removing (`sfcproxy dsr ls` lists them)")]
    private partial void LogRestored(int changes, int removing, string path);

    [LoggerMessage(EventId = Hosting.EventIds.DsrLiveReplaced, Level = LogLevel.Warning,
        Message = "DSR service {Service}: live change of backend {Backend} ({Live}) dropped: {Reason}; the config's word holds")]
    private partial void LogReplaced(string service, string backend, string live, string reason);

    [LoggerMessage(EventId = Hosting.EventIds.DsrLiveSaveFailed, Level = LogLevel.Error,
        Message = "DSR state file {Path} could not be written; it may not match the tables in force until the next change")]
    private partial void LogSaveFailed(string path, Exception e);
}
