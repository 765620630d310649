using System.CommandLine;
using SfcProxy.Bpf;
using SfcProxy.Proxy;

namespace SfcProxy.Cli;

/// <summary>
/// `sfcproxy detach --instance NAME`: removes an instance a daemon left attached (DetachOnStop false,
/// or a daemon killed with SIGKILL): its links, popping first, then its pinned maps.
/// </summary>
internal static class DetachCommand
{
    public static Command Create()
    {
        var instance = new Option<string>("--instance", "-i") { Description = "Instance name", Required = true };
        var pinRoot = new Option<string>("--pin-root") { Description = "bpffs directory of the pins", DefaultValueFactory = _ => BpfPins.DefaultRoot };
        var command = new Command("detach", "Detach an instance left attached and remove its pins (no daemon needed)") { instance, pinRoot };
        command.SetAction(parseResult => Detach(parseResult.GetRequiredValue(instance), parseResult.GetRequiredValue(pinRoot),
            parseResult.InvocationConfiguration.Output, parseResult.InvocationConfiguration.Error));
        return command;
    }

    private static int Detach(string instance, string pinRoot, TextWriter output, TextWriter error)
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
            var links = pins.Exists ? ProxyLinks.DetachAll(pins) : 0;
            pins.Remove();
            foreach (var module in modules)
                module.Remove();
            output.WriteLine($"instance '{instance}': {links} link(s) detached, pins in {pins.Directory} removed" +
                (modules.Count > 0 ? $" (and {string.Join(", ", modules.Select(m => m.Directory))})" : ""));
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            error.WriteLine($"sfcproxy detach: {e.Message}");
            return ExitCodes.Failed;
        }
    }
}
