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
    private static readonly string[] DetachOrder = [ProxyObjects.RxName, ProxyObjects.MarkName, ProxyObjects.TxName];

    public static string PinName(string program, string ifname) => $"link_{program}@{ifname}";

    /// <summary>
    /// Takes over the pinned link of <paramref name="program"/> on <paramref name="ifname"/> (program
    /// swapped in, maps kept), or attaches with <paramref name="attach"/> and pins. Pinned links of the
    /// same program on other interfaces (the config moved) are detached first.
    /// </summary>
    /// <returns>The link, and whether it was taken over from an earlier daemon.</returns>
    public static (BpfLink Link, bool TookOver) AttachOrTakeOver(BpfPins pins, BpfProgram program, string ifname, Func<BpfLink> attach)
    {
        var path = pins.Path(PinName(program.Name, ifname));
        DetachPinned(pins, program.Name, except: path);
        if (File.Exists(path))
        {
            var pinned = BpfLink.OpenPinned(path);
            try
            {
                pinned.Update(program);
            }
            catch
            {
                pinned.Dispose();
                throw;
            }
            return (pinned, true);
        }

        var link = attach();
        try
        {
            link.Pin(path);
        }
        catch (NotSupportedException)
        {
            // A clsact filter (kernel without tcx) cannot be pinned: it lives as long as the daemon.
        }
        catch
        {
            link.Dispose();
            throw;
        }
        return (link, false);
    }

    /// <summary>Detaches the pinned links of one program (all of them, or all but one path).</summary>
    public static int DetachPinned(BpfPins pins, string program, string? except = null)
    {
        var removed = 0;
        if (!Directory.Exists(pins.Directory))
            return 0;
        foreach (var path in Directory.EnumerateFiles(pins.Directory, PinName(program, "*")))
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
    /// <summary>The interface xdp_rx's link is pinned on (the proxy's ingress), or null without one.</summary>
    public static string? IngressOf(BpfPins pins)
    {
        var prefix = PinName(ProxyObjects.RxName, "");
        return Directory.EnumerateFiles(pins.Directory, prefix + "*").Select(Path.GetFileName)
            .Select(name => name![prefix.Length..]).FirstOrDefault();
    }

    public static int DetachAll(BpfPins pins) => DetachOrder.Sum(program => DetachPinned(pins, program));
}
