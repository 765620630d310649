using SfcProxy.Bpf;

namespace SfcProxy.Proxy;

/// <summary>
/// The proxy's attachments, pinned in the instance directory as <c>link_&lt;program&gt;@&lt;interface&gt;</c>.
/// Pinned, they outlive the daemon (kill -9, a restart, an upgrade) and keep the datapath running;
/// the next daemon takes them over by swapping its freshly loaded program into each link, which the
/// kernel does atomically, so no packet meets a half-attached proxy.
/// </summary>
internal static class ProxyLinks
{
    /// <summary>Detach order: stop popping first, then the mark companion, restoring last, so no
    /// packet is popped whose way back is already gone.</summary>
    private static readonly string[] DetachOrder = [SfcBpfNames.XdpRx.Program, SfcBpfNames.MetaMark.Program, SfcBpfNames.TcTx.Program];

    public static string PinName(string program, string ifname) => $"link_{program}@{ifname}";

    /// <summary>
    /// Attaches <paramref name="program"/> on <paramref name="ifname"/> with <paramref name="attach"/>
    /// and pins it, unless a link of it is pinned there already (then null: <see cref="TakeOver"/>
    /// it). Every change goes into <paramref name="journal"/>. Pinned links of the same program on
    /// other interfaces (the config moved) keep running: they are added to <paramref name="obsolete"/>,
    /// to be detached only once the whole start has succeeded.
    /// </summary>
    public static BpfLink? AttachNew(BpfPins pins, BpfProgram program, string ifname, Func<BpfLink> attach,
        StartJournal journal, List<string> obsolete)
    {
        var path = pins.Path(PinName(program.Name, ifname));
        obsolete.AddRange(PinnedPaths(pins, program.Name).Where(p => p != path));
        if (File.Exists(path))
            return null;
        var link = attach();
        journal.Record($"detach {link}", link.Dispose);
        try
        {
            link.Pin(path);
            journal.Record($"unpin {path}", link.Unpin);
        }
        catch (NotSupportedException)
        {
            // A clsact filter (kernel without tcx) cannot be pinned: it lives as long as the daemon.
        }
        return link;
    }

    /// <summary>Takes over the link pinned for <paramref name="program"/> on <paramref name="ifname"/>:
    /// the program swapped in atomically, the earlier one kept until the start is kept (the journal
    /// swaps it back on a rollback), maps untouched.</summary>
    public static BpfLink TakeOver(BpfPins pins, BpfProgram program, string ifname, StartJournal journal)
    {
        var path = pins.Path(PinName(program.Name, ifname));
        var pinned = BpfLink.OpenPinned(path);
        journal.Record($"close {path}", pinned.Dispose);
        var swap = pinned.Swap(program);
        journal.Record($"put the earlier program back into {path}", swap.Revert, swap.Dispose);
        return pinned;
    }

    /// <summary>The pinned links of one program, whatever their interface.</summary>
    public static IEnumerable<string> PinnedPaths(BpfPins pins, string program) =>
        Directory.Exists(pins.Directory) ? Directory.EnumerateFiles(pins.Directory, PinName(program, "*")).ToList() : [];

    /// <summary>Detaches the pinned links of one program (all of them, or all but one path).</summary>
    public static int DetachPinned(BpfPins pins, string program, string? except = null)
    {
        var removed = 0;
        foreach (var path in PinnedPaths(pins, program))
        {
            if (path == except)
                continue;
            // Unlinking the last reference to a link detaches its program.
            File.Delete(path);
            removed++;
        }
        return removed;
    }

    /// <summary>Detaches every pinned link of an instance, in <see cref="DetachOrder"/>.</summary>
    public static int DetachAll(BpfPins pins) => DetachOrder.Sum(program => DetachPinned(pins, program));

    /// <summary>The names of everything in the instance directory named like one of the proxy's
    /// link pins (what removing the instance's pins removes besides its maps).</summary>
    public static IReadOnlyList<string> PinNames(BpfPins pins) =>
        Directory.Exists(pins.Directory)
            ? [.. DetachOrder.SelectMany(p => Directory.EnumerateFileSystemEntries(pins.Directory, PinName(p, "*"))).Select(p => Path.GetFileName(p))]
            : [];

    /// <summary>The interface xdp_rx's link is pinned on (the proxy's ingress), or null without one.</summary>
    public static string? IngressOf(BpfPins pins)
    {
        var prefix = PinName(SfcBpfNames.XdpRx.Program, "");
        return PinnedPaths(pins, SfcBpfNames.XdpRx.Program).Select(Path.GetFileName).Select(name => name![prefix.Length..]).FirstOrDefault();
    }

    /// <summary>The interface a link pin is on: "link_xdp_rx@eth1" -> "eth1".</summary>
    public static string InterfaceOf(string pinPath) => Path.GetFileName(pinPath).Split('@', 2)[^1];
}
