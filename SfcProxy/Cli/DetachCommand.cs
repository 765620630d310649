using System.CommandLine;
using SfcProxy.Bpf;
using SfcProxy.Control;
using SfcProxy.Hosting;
using SfcProxy.Proxy;

namespace SfcProxy.Cli;

/// <summary>
/// `sfcproxy detach --instance NAME`: removes an instance a daemon left attached (DetachOnStop false,
/// or a daemon killed with SIGKILL): its links, popping first, then its pins, and turns GRO back on
/// where the daemon's note (<see cref="GroNote"/>, beside its socket) says it turned it off. Refuses
/// while a live daemon owns the instance (<see cref="InstanceLock"/>), and holds that lock itself
/// meanwhile, so no daemon starts on a half-removed instance. Removes only what SfcProxy pins.
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
        InstanceLock? owned;
        try
        {
            owned = InstanceLock.AcquireExisting(pinRoot, instance);
        }
        catch (Exception e) when (e is InstanceBusyException or IOException or ArgumentException)
        {
            error.WriteLine($"sfcproxy detach: {e.Message}");
            return ExitCodes.Failed;
        }
        using (owned)
        {
            var pins = new BpfPins(instance, pinRoot);
            // The policy and backend-side DSR modules pin only maps (their links end with the daemon); the
            // load balancer also pins its XDP link, which detaches once its pin is removed here.
            var modules = new[] { "-policy", "-dsr", "-dsr-decap" }
                .Select(suffix => new BpfPins(instance + suffix, pinRoot)).Where(p => p.Exists).ToList();
            var note = GroNote.PathFor(socketPath, instance);
            if (!pins.Exists && modules.Count == 0 && GroNote.Read(note) is null)
            {
                output.WriteLine($"instance '{instance}': nothing attached ({pins.Directory} does not exist)");
                return ExitCodes.Ok;
            }

            var steps = new Teardown();
            var ingress = pins.Exists ? ProxyLinks.IngressOf(pins) : null;
            var links = 0;
            if (pins.Exists)
            {
                steps.Run($"detach the links in {pins.Directory}", () => links = ProxyLinks.DetachAll(pins));
                steps.Run($"remove the pins in {pins.Directory}", () =>
                {
                    var removal = pins.Remove([.. ProxyObjects.PinnedMapNames(), .. ProxyLinks.PinNames(pins)]);
                    if (removal.Foreign.Count > 0)
                        output.WriteLine($"instance '{instance}': {pins.Directory} kept: it holds pins SfcProxy did not make ({string.Join(", ", removal.Foreign)})");
                });
            }
            foreach (var module in modules)
                steps.Run($"remove the pins in {module.Directory}", () => module.Remove());
            foreach (var device in GroRestore.All(note, instance, ingress, steps))
                output.WriteLine($"instance '{instance}': GRO on {device} turned back on (the daemon had turned it off)");

            foreach (var failure in steps.Failures)
                error.WriteLine($"sfcproxy detach: {failure}");
            output.WriteLine($"instance '{instance}': {links} link(s) detached, pins in {pins.Directory} removed" +
                (modules.Count > 0 ? $" (and {string.Join(", ", modules.Select(m => m.Directory))})" : "") +
                (steps.Failures.Count > 0 ? $", {steps.Failures.Count} step(s) failed" : ""));
            return steps.Failures.Count == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        }
    }
}
