using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Bpf;
using SfcProxy.Configuration;
using SfcProxy.Datapath;
using SfcProxy.Hosting;
using SfcProxy.Net;

namespace SfcProxy.Proxy;

/// <summary>
/// The SR-MPLS proxy in the kernel: xdp_rx on the ingress (pop + cache), meta_mark on the ingress
/// tc hook (metadata key mode only), tc_tx on the egress (restore), all sharing the maps pinned
/// under &lt;PinRoot&gt;/&lt;Instance&gt;/.
/// </summary>
public sealed partial class BpfProxyDatapath : IProxyDatapath
{
    private readonly SfcProxyOptions _options;
    private readonly ILogger<BpfProxyDatapath> _log;
    private readonly List<BpfLink> _links = [];
    private ProxyObjects? _objects;
    private CacheAging? _aging;
    // Held by a sweep and by the part of Stop that closes the maps, so a sweep never runs on a
    // closed map fd.
    private readonly Lock _mapsLock = new();
    private volatile bool _attached;
    private byte[] _egressMac = new byte[6];
    // Between Start and Commit: what the start changed, to put back if the host does not start.
    private StartJournal? _journal;
    // Pinned links of an earlier daemon this start did not take over: detached at Commit.
    private readonly List<string> _obsolete = [];
    // Started and not yet stopped or rolled back.
    private bool _running;

    public BpfProxyDatapath(IOptions<SfcProxyOptions> options, ILogger<BpfProxyDatapath> log)
    {
        _options = options.Value;
        _log = log;
    }

    public void Start()
    {
        if (_journal is not null || _objects is not null)
            throw new InvalidOperationException("the datapath is already started");
        var journal = new StartJournal();
        try
        {
            Start(journal);
        }
        catch (Exception e)
        {
            LogStartRolledBack(_options.Instance, e.Message);
            foreach (var failure in journal.RollBack())
                LogRollbackStepFailed(failure.Step, failure.Error.Message);
            _links.Clear();
            _obsolete.Clear();
            _objects = null;
            throw;
        }
        _journal = journal;
        _running = true;
    }

    /// <summary>
    /// Loads, configures and attaches, recording in <paramref name="journal"/> every change to what
    /// it found so that <see cref="RollBack"/> can put it all back. Nothing that was running is
    /// removed here: links of an earlier daemon on interfaces this config no longer names keep
    /// running until <see cref="Commit"/>.
    /// </summary>
    private void Start(StartJournal journal)
    {
        var o = _options;
        BpfEnvironment.EnsureReady(o.PinRoot);
        // Validated options always name both interfaces.
        var ingressName = o.Interfaces.Ingress!;
        var egressName = o.Interfaces.Egress!;
        var ingress = NetDevice.IfIndex(ingressName);
        var egress = NetDevice.IfIndex(egressName);
        var pins = new BpfPins(o.Instance, o.PinRoot);
        var found = PinEntries(pins);

        var objects = ProxyObjects.Load(pins, o.KeyMode, (uint)o.Cache.Size);
        journal.Record("close the BPF objects", () => { _objects = null; objects.Dispose(); });
        var made = PinEntries(pins).Except(found).ToList();
        if (made.Count > 0)
            journal.Record($"remove the pins this start made in {pins.Directory} ({string.Join(", ", made)})", () => pins.Remove(made, removeDirectory: false));
        _objects = objects;

        _egressMac = NetDevice.HardwareAddress(egressName);
        // With maps an earlier datapath still runs on, its settings change only once nothing that can
        // fail is left but the take-overs: a start the kernel refuses must not have run the old
        // programs on the new settings in the meantime.
        var shared = found.Contains("sfc_config");
        if (!shared)
            Configure(objects, journal, shared);

        // Restore first, pop last: from the first popped packet on, its way back is in place. New
        // links first (where the kernel may refuse), then the links an earlier daemon left pinned
        // are taken over (program swapped in, maps kept).
        var plan = new List<(BpfProgram Program, string Interface, Func<BpfLink> Attach)>
        {
            (objects.Tx, egressName, () => objects.Tx.AttachTc(egress, TcDirection.Egress)),
        };
        if (o.KeyMode == KeyMode.Metadata)
            plan.Add((objects.Mark, ingressName, () => objects.Mark.AttachTc(ingress, TcDirection.Ingress)));
        else
            _obsolete.AddRange(ProxyLinks.PinnedPaths(pins, ProxyObjects.MarkName));
        plan.Add((objects.Rx, ingressName,
            () => objects.Rx.AttachXdp(ingress, o.XdpMode == XdpMode.Generic ? XdpAttachMode.Generic : XdpAttachMode.Native)));

        var links = new BpfLink?[plan.Count];
        for (var i = 0; i < plan.Count; i++)
        {
            var (program, ifname, attach) = plan[i];
            if (program == objects.Rx && o.DisableGro)
                TurnGroOff(ingressName, journal);
            links[i] = ProxyLinks.AttachNew(pins, program, ifname, attach, journal, _obsolete);
        }
        if (shared)
            Configure(objects, journal, shared);
        var takenOver = 0;
        for (var i = 0; i < plan.Count; i++)
        {
            if (links[i] is null)
            {
                links[i] = ProxyLinks.TakeOver(pins, plan[i].Program, plan[i].Interface, journal);
                takenOver++;
            }
        }
        _links.AddRange(links!);
        journal.Record("forget the links", () => _links.Clear());

        _attached = true;
        journal.Record("mark the datapath detached", () => _attached = false);
        if (takenOver > 0)
            LogTookOver(o.Instance, takenOver);
        LogAttached(o.Instance, ingressName, egressName, OptionValues.KeyModes.NameOf(o.KeyMode), pins.Directory);
    }

    /// <summary>The start is kept (every service of the host started): links of an earlier daemon that
    /// this one did not take over are detached now, and GRO is given back where they ran.</summary>
    public void Commit()
    {
        var journal = Interlocked.Exchange(ref _journal, null);
        if (journal is null)
            return;
        journal.Commit();
        var steps = new Teardown();
        var left = new List<string>();
        foreach (var path in _obsolete)
        {
            if (steps.Run($"detach {path}", () => File.Delete(path)))
            {
                LogObsoleteLinkRemoved(path);
                if (Path.GetFileName(path).StartsWith(ProxyLinks.PinName(ProxyObjects.RxName, ""), StringComparison.Ordinal))
                    left.Add(ProxyLinks.InterfaceOf(path));
            }
        }
        _obsolete.Clear();
        GroRestore.Only(GroStatePath, _options.Instance, left.Where(i => i != _options.Interfaces.Ingress), steps);
        foreach (var failure in steps.Failures)
            LogObsoleteLinkRemovalFailed(failure.Step, failure.Error.Message);
    }

    /// <summary>The host did not start: everything <see cref="Start"/> changed is put back as it was found.</summary>
    public void RollBack()
    {
        var journal = Interlocked.Exchange(ref _journal, null);
        if (journal is null)
            return;
        _running = false;
        LogStartRolledBack(_options.Instance, "a service started after the datapath failed");
        lock (_mapsLock)
        {
            foreach (var failure in journal.RollBack())
                LogRollbackStepFailed(failure.Step, failure.Error.Message);
            _aging = null;
        }
        _links.Clear();
        _obsolete.Clear();
    }

    /// <summary>The datapath's settings and the VNF port, the earlier ones kept for a rollback when
    /// <paramref name="shared"/> (maps an earlier datapath runs on).</summary>
    private void Configure(ProxyObjects objects, StartJournal journal, bool shared)
    {
        if (shared && objects.Config.TryLookup(0u, out SfcConfig running))
            journal.Record("put back the datapath settings found in sfc_config", () => objects.Config.Update(0u, running));
        objects.WriteConfig(BuildConfig(_options, _egressMac));
        SetVnfPort(objects, _options.Interfaces.Vnf, journal);
    }

    /// <summary>Interfaces:Vnf into the redirect map; an earlier daemon's entry goes when this config
    /// has none (XDP_PASS to the host stack again).</summary>
    private static void SetVnfPort(ProxyObjects objects, string? vnf, StartJournal journal)
    {
        var map = objects.VnfPort;
        if (map.TryLookup(0u, out uint earlier))
            journal.Record("put back the VNF port found in sfc_vnf_port", () => map.Update(0u, earlier));
        else
            journal.Record("clear sfc_vnf_port", () => map.Delete(0u));
        if (vnf is not null)
            map.Update(0u, (uint)NetDevice.IfIndex(vnf));
        else
            map.Delete(0u);
    }

    /// <summary>Names in the pin directory now (none when it does not exist).</summary>
    private static HashSet<string> PinEntries(BpfPins pins) =>
        pins.Exists ? [.. Directory.EnumerateFileSystemEntries(pins.Directory).Select(p => Path.GetFileName(p))] : [];

    /// <summary>
    /// GRO runs after XDP and would merge popped packets into one skb carrying one packet's key: it
    /// is off while the proxy is attached. Only a daemon that finds it on turns it off, and it alone
    /// adds the ingress to the instance's GRO note, so the last detach gives the operator's setting
    /// back; a daemon that finds it off (the operator's choice, or an earlier daemon's, noted) leaves
    /// GRO and the note alone.
    /// </summary>
    private void TurnGroOff(string ingress, StartJournal journal)
    {
        if (!NetDevice.GetGro(ingress))
            return;
        var path = GroStatePath;
        var found = GroNote.Read(path);
        if (found?.Problem is { } problem)
            LogGroNoteUnreadable(problem);
        NetDevice.SetGro(ingress, false);
        journal.Record($"turn GRO back on for {ingress}", () => NetDevice.SetGro(ingress, true));
        var noted = found?.Problem is null ? found?.Interfaces ?? [] : [];
        journal.Record($"put the GRO note {path} back as it was", () => GroNote.Restore(path, found));
        GroNote.Write(path, _options.Instance, [.. noted.Append(ingress).Distinct()]);
    }

    private string GroStatePath => GroNote.PathFor(_options.SocketPath, _options.Instance);

    /// <summary>Applies the reloadable settings (miss policy, static stack, consumed segments,
    /// encapsulations, NSH next hop, latency sampling) to the running datapath without detaching.</summary>
    public void Reconfigure(SfcProxyOptions options)
    {
        lock (_mapsLock)
            Objects.WriteConfig(BuildConfig(options, _egressMac));
    }

    internal static SfcConfig BuildConfig(SfcProxyOptions o, byte[] egressMac)
    {
        var config = new SfcConfig
        {
            KeyMode = (uint)o.KeyMode,
            MissPolicy = (uint)o.MissPolicy,
            ConsumedSegments = (uint)o.ConsumedSegments,
            LatencySampleEvery = (uint)o.LatencySampleEvery,
            // Metadata mode ages in the datapath: a slot this old is taken over (CacheAging).
            MetaMaxAgeNs = (ulong)o.Cache.MaxAge.Ticks * 100UL,
        };
        var stack = LabelEntryOptions.EncodeStack(o.StaticStack);
        config.StaticLabelCount = (uint)stack.Length;
        foreach (var encap in o.Encapsulations)
            config.AcceptedEncaps |= 1u << (int)encap;
        unsafe
        {
            for (var i = 0; i < stack.Length; i++)
                config.StaticLabels[i] = stack[i];
            // An NSH packet whose next protocol is Ethernet gets a new outer Ethernet header.
            egressMac.CopyTo(new Span<byte>(config.EgressMac, 6));
            if (o.Nsh.NextHopMac is { } mac && NshOptions.TryParseMac(mac, out var nextHop))
                nextHop.CopyTo(new Span<byte>(config.NshNextHopMac, 6));
        }
        return config;
    }

    /// <summary>Stops as configured: detaches (DetachOnStop) or leaves the datapath attached and pinned.
    /// A start that was never kept is rolled back instead.</summary>
    /// <exception cref="TeardownException">Steps of the detach failed (every other step ran).</exception>
    public void Stop()
    {
        if (_journal is not null)
        {
            RollBack();
            return;
        }
        if (!_running)
            return;
        _running = false;
        if (_options.DetachOnStop)
            Detach();
        else
            LeaveAttached();
    }

    private void LeaveAttached()
    {
        _attached = false;
        foreach (var link in _links)
            link.Dispose(); // pinned: it stays attached
        _links.Clear();
        BpfPins? pins;
        lock (_mapsLock)
        {
            pins = _objects?.Pins;
            _objects?.Dispose();
            _objects = null;
            _aging = null;
        }
        if (pins is not null)
            LogLeftAttached(_options.Instance, pins.Directory);
    }

    /// <summary>
    /// Detaches popping first and restoring last, gives GRO back, closes the maps and removes the
    /// instance's own pins. Every step runs whatever the others did; the failures are reported together.
    /// </summary>
    private void Detach()
    {
        _attached = false;
        var steps = new Teardown();
        // Links were added restore-first; going backwards stops popping before restoring.
        for (var i = _links.Count - 1; i >= 0; i--)
        {
            var link = _links[i];
            steps.Run($"unpin {link.PinPath ?? link.Description}", link.Unpin);
            steps.Run($"detach {link.Description}", link.Dispose);
        }
        _links.Clear();

        BpfPins? pins = null;
        IReadOnlyList<string> mapNames = [];
        lock (_mapsLock)
        {
            if (_objects is { } objects)
            {
                pins = objects.Pins;
                steps.Run("list the pinned maps", () => mapNames = objects.PinnedMapNames());
                steps.Run("close the BPF objects", objects.Dispose);
                _objects = null;
                _aging = null;
            }
        }
        if (pins is not null)
        {
            // Links an earlier daemon pinned that this one did not take over.
            steps.Run($"detach the links left in {pins.Directory}", () => ProxyLinks.DetachAll(pins));
        }
        foreach (var device in GroRestore.All(GroStatePath, _options.Instance, _options.Interfaces.Ingress, steps))
            LogGroRestored(device);
        if (pins is not null)
        {
            steps.Run($"remove the pins in {pins.Directory}", () =>
            {
                var removal = pins.Remove([.. mapNames, .. ProxyLinks.PinNames(pins)]);
                if (removal.Foreign.Count > 0)
                    LogPinsKept(pins.Directory, string.Join(", ", removal.Foreign));
            });
        }
        foreach (var failure in steps.Failures)
            LogTeardownStepFailed(failure.Step, failure.Error.Message);
        if (steps.Failures.Count > 0)
            throw new TeardownException($"instance {_options.Instance}: detach", steps.Failures);
        LogDetached(_options.Instance);
    }

    public IReadOnlyDictionary<Counter, ulong> ReadCounters() => Objects.ReadCounters();

    public LatencyReport ReadLatency() => Objects.ReadLatency();

    public CacheSummary ReadCacheSummary()
    {
        var cache = Objects.Cache(_options.KeyMode);
        return new CacheSummary(OptionValues.KeyModes.NameOf(_options.KeyMode),
            HeaderCacheEntries.Count(cache, _options.KeyMode), cache.MaxEntries);
    }

    public CacheSweepResult? SweepCache(TimeSpan maxAge)
    {
        lock (_mapsLock)
        {
            // Metadata mode ages in the datapath (CacheAging): nothing for the host to sweep.
            if (!_attached || _objects is null || _options.KeyMode == KeyMode.Metadata)
                return null;
            _aging ??= new CacheAging(_objects.HashCache);
            return _aging.Sweep(maxAge);
        }
    }

    // Under the maps lock like the sweep: a stop never closes the map under a dump or a flush.
    public IReadOnlyList<CacheEntryView> DumpCache(int limit)
    {
        lock (_mapsLock)
            return HeaderCacheEntries.Dump(Objects.Cache(_options.KeyMode), _options.KeyMode, limit);
    }

    public int FlushCache()
    {
        lock (_mapsLock)
            return HeaderCacheEntries.Flush(Objects.Cache(_options.KeyMode), _options.KeyMode);
    }

    private ProxyObjects Objects => _objects ?? throw new InvalidOperationException("the datapath is not attached");

    /// <summary>Rolls back a start that was not kept, else stops as configured; never throws (the
    /// failures of a detach are logged step by step).</summary>
    public void Dispose()
    {
        try
        {
            Stop();
        }
        catch (TeardownException)
        {
        }
    }

    [LoggerMessage(EventId = EventIds.Attached, Level = LogLevel.Information,
        Message = "instance {Instance}: xdp_rx on {Ingress}, tc_tx on {Egress}, key mode {KeyMode}, maps pinned in {PinDirectory}")]
    private partial void LogAttached(string instance, string ingress, string egress, string keyMode, string pinDirectory);

    [LoggerMessage(EventId = EventIds.Detached, Level = LogLevel.Information, Message = "instance {Instance}: detached, pins removed")]
    private partial void LogDetached(string instance);

    [LoggerMessage(EventId = EventIds.TookOver, Level = LogLevel.Information,
        Message = "instance {Instance}: took over {Links} pinned link(s) of an earlier daemon; cached headers kept")]
    private partial void LogTookOver(string instance, int links);

    [LoggerMessage(EventId = EventIds.LeftAttached, Level = LogLevel.Information,
        Message = "instance {Instance}: left attached (DetachOnStop false); pins in {PinDirectory}; `sfcproxy detach --instance {Instance}` removes them")]
    private partial void LogLeftAttached(string instance, string pinDirectory);

    [LoggerMessage(EventId = EventIds.GroRestored, Level = LogLevel.Information, Message = "GRO turned back on for {Interface}")]
    private partial void LogGroRestored(string @interface);

    [LoggerMessage(EventId = EventIds.StartRolledBack, Level = LogLevel.Warning,
        Message = "instance {Instance}: start failed ({Reason}); putting back what it found")]
    private partial void LogStartRolledBack(string instance, string reason);

    [LoggerMessage(EventId = EventIds.RollbackStepFailed, Level = LogLevel.Error, Message = "rollback step failed: {Step}: {Reason}")]
    private partial void LogRollbackStepFailed(string step, string reason);

    [LoggerMessage(EventId = EventIds.TeardownStepFailed, Level = LogLevel.Error, Message = "detach step failed: {Step}: {Reason}")]
    private partial void LogTeardownStepFailed(string step, string reason);

    [LoggerMessage(EventId = EventIds.GroNoteUnreadable, Level = LogLevel.Warning, Message = "GRO note: {Problem}")]
    private partial void LogGroNoteUnreadable(string problem);

    [LoggerMessage(EventId = EventIds.ObsoleteLinkRemoved, Level = LogLevel.Information,
        Message = "detached {Pin}: an earlier daemon's link on an interface this config no longer uses")]
    private partial void LogObsoleteLinkRemoved(string pin);

    [LoggerMessage(EventId = EventIds.ObsoleteLinkRemovalFailed, Level = LogLevel.Error, Message = "after start: {Step}: {Reason}")]
    private partial void LogObsoleteLinkRemovalFailed(string step, string reason);

    [LoggerMessage(EventId = EventIds.PinsKept, Level = LogLevel.Information,
        Message = "{PinDirectory} kept: it holds pins SfcProxy did not make ({Entries})")]
    private partial void LogPinsKept(string pinDirectory, string entries);
}
