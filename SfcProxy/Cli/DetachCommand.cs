using System.CommandLine;
using SfcProxy.Bpf;
using SfcProxy.Control;
using SfcProxy.Net;
using SfcProxy.Proxy;

namespace SfcProxy.Cli;

/// <summary>
/// `sfcproxy detach --instance NAME`: removes an instance a daemon left attached (DetachOnStop false,
/// or a daemon killed with SIGKILL): its links, popping first, then its pinned maps, and gives the
/// ingress its GRO setting back from the note the daemon left beside its socket (<see cref="GroNote"/>).
/// </summary>
internal static class DetachCommand
{
    public static Command Create()
    {
        var instance = new Option<string>("--instance", "-i") { Description = "Instance name", Required = true };
        var pinRoot = new Option<string>("--pin-root") { Description = "bpffs directory of the pins", DefaultValueFactory = _ => BpfPins.DefaultRoot };
        var socket = new Option<string?>("--socket")
        {
            Description = "The daemon's control socket path, whose directory holds its GRO note (default /run/sfcproxy/NAME.sock)",
        };
        var command = new Command("detach", "Detach an instance left attached and remove its pins (no daemon needed)") { instance, pinRoot, socket };
        command.SetAction(parseResult =>
        {
            var name = parseResult.GetRequiredValue(instance);
            return Detach(name, parseResult.GetRequiredValue(pinRoot), parseResult.GetValue(socket) ?? ControlClient.DefaultSocketPath(name),
                parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error);
        });
        return command;
    }

    private static int Detach(string instance, string pinRoot, string socketPath, TextWriter output, TextWriter error)
    {
        try
        {
            var pins = new BpfPins(instance, pinRoot);
            // The policy and DSR modules pin only maps (their links end with the daemon).
            var modules = new[] { "-policy", "-dsr", "-dsr-decap" }
                .Select(suffix => new BpfPins(instance + suffix, pinRoot)).Where(p => p.Exists).ToList();
            if (!pins.Exists && modules.Count == 0)
            {
                output.WriteLine($"instance '{instance}': nothing attached ({pins.Directory} does not exist)");
                return ExitCodes.Ok;
            }
            var ingress = pins.Exists ? ProxyLinks.IngressOf(pins) : null;
            var links = pins.Exists ? ProxyLinks.DetachAll(pins) : 0;
            pins.Remove();
            foreach (var module in modules)
                module.Remove();
            output.WriteLine($"instance '{instance}': {links} link(s) detached, pins in {pins.Directory} removed" +
                (modules.Count > 0 ? $" (and {string.Join(", ", modules.Select(m => m.Directory))})" : ""));
            return RestoreGro(instance, ingress, GroNote.PathFor(socketPath, instance), output, error);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            error.WriteLine($"sfcproxy detach: {e.Message}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>GRO back on at the ingress if the daemon found it on before its first attach (the
    /// daemon turns it off while attached); the note goes either way. Without a note, or with the
    /// ingress gone, GRO is left as it is.</summary>
    private static int RestoreGro(string instance, string? ingress, string note, TextWriter output, TextWriter error)
    {
        var wasOn = GroNote.Read(note);
        if (wasOn is null)
            return ExitCodes.Ok;
        File.Delete(note);
        if (wasOn == false || ingress is null)
            return ExitCodes.Ok;
        try
        {
            NetDevice.SetGro(ingress, true);
            output.WriteLine($"instance '{instance}': GRO on {ingress} restored (it was on before the first attach)");
            return ExitCodes.Ok;
        }
        catch (BpfException e)
        {
            error.WriteLine($"sfcproxy detach: GRO on {ingress} not restored: {e.Message}");
            return ExitCodes.Failed;
        }
    }
}
