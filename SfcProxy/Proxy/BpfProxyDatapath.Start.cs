using SfcProxy.Bpf;
using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Net;

namespace SfcProxy.Proxy;

// Starting: every change to what was found goes into a journal, kept or undone once the host has started or not.
public sealed partial class BpfProxyDatapath
{
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
        var shared = found.Contains(SfcBpfNames.Maps.Config);
        if (!shared)
            Configure(objects, journal, shared);

        // Restore first, pop last: from the first popped packet on, its way back is in place. New
        // links first (where the kernel may refuse), then the links an earlier daemon left pinned
        // are taken over (program swapped in, maps kept).
        var plan = new List<(BpfProgram Program, string Interface, Func<BpfLink> Attach)>
        {
            (objects.Tx, egressName, () => objects.Tx.AttachTc(egress, TcDirection.Egress)),
        };
        if (objects.CacheKeyMode.MarksIngress)
            plan.Add((objects.Mark, ingressName, () => objects.Mark.AttachTc(ingress, TcDirection.Ingress)));
        else
            _obsolete.AddRange(ProxyLinks.PinnedPaths(pins, SfcBpfNames.MetaMark.Program));
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
                if (Path.GetFileName(path).StartsWith(ProxyLinks.PinName(SfcBpfNames.XdpRx.Program, ""), StringComparison.Ordinal))
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
}
