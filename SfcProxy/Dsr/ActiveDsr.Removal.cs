using System.Net;
using Microsoft.Extensions.Logging;

namespace SfcProxy.Dsr;

// The removing backends of ActiveDsr (see its remarks): reading them, sweeping them, their bookkeeping.
public sealed partial class ActiveDsr
{
    /// <summary>The removing backends, their flows counted now (one scan of the connection table if there are any).</summary>
    public IReadOnlyList<DsrRemovingBackend> ReadRemoving()
    {
        lock (_gate)
        {
            if (_removing.Count == 0)
                return [];
            var counts = datapath.CountConnections();
            foreach (var r in _removing)
                r.Flows = counts.GetValueOrDefault(r.BackendId);
            return _removing.Select(r => r.View()).ToList();
        }
    }

    /// <summary>
    /// Counts the removing backends' flows and purges those with no connection entry, or whose
    /// packet counter has not moved for <see cref="RemoveIdle"/> (read at the removal, then at
    /// every sweep).
    /// </summary>
    public DsrSweepResult Sweep()
    {
        lock (_gate)
        {
            if (_removing.Count == 0 || _tables is null)
                return new DsrSweepResult([], 0);
            var now = _time.GetUtcNow();
            var counts = datapath.CountConnections();
            var due = new List<Removal>();
            foreach (var r in _removing)
            {
                r.Flows = counts.GetValueOrDefault(r.BackendId);
                var packets = datapath.ReadBackendTraffic(r.BackendId).Packets;
                if (packets != r.Packets)
                    (r.Packets, r.LastActive) = (packets, now);
                if (r.Flows == 0 || now - r.LastActive >= RemoveIdle)
                    due.Add(r);
            }
            if (due.Count == 0)
                return new DsrSweepResult([], 0);

            var removing = _removing.Except(due).ToList();
            var tables = DsrTableBuilder.Build(Effective(_services, removing), _tables);
            datapath.Apply(tables);
            _tables = tables;
            _removing = removing;
            // The datapath cleared the addresses; now no entry may name the freed ids (a later
            // backend could get one).
            var deleted = 0;
            foreach (var r in due)
            {
                var n = tables.Backends.Any(b => b.BackendId == r.BackendId) ? 0 : datapath.DeleteConnections(r.BackendId);
                deleted += n;
                LogPurged(r.Address.ToString(), r.BackendId, string.Join(", ", r.Services), r.Flows, n, (now - r.LastActive).TotalSeconds);
            }
            SaveOrLog();
            return new DsrSweepResult(due.Select(r => r.Address).ToList(), deleted);
        }
    }

    /// <summary>A removing backend's bookkeeping (changed only under the lock).</summary>
    private sealed class Removal(IReadOnlyList<DsrServiceKey> services, IPAddress address, DateTimeOffset since)
    {
        public IReadOnlyList<DsrServiceKey> Services { get; } = services;
        public IPAddress Address { get; } = address;
        public DateTimeOffset Since { get; } = since;
        public uint BackendId { get; set; }
        /// <summary>The backend's packet counter when last read.</summary>
        public ulong Packets { get; set; }
        public DateTimeOffset LastActive { get; set; } = since;
        public int Flows { get; set; } = -1;

        public DsrRemovingBackend View() => new(Services, Address, BackendId, Since, Flows, LastActive);
    }

    [LoggerMessage(EventId = Hosting.EventIds.DsrBackendPurged, Level = LogLevel.Information,
        Message = "DSR backend {Backend} (id {BackendId}) removed from {Service} purged: {Flows} connection entries, {Deleted} deleted, idle {IdleSeconds:0.#} s; its id is free")]
    private partial void LogPurged(string backend, uint backendId, string service, int flows, int deleted, double idleSeconds);
}
