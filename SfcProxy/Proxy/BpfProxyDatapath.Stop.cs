using SfcProxy.Bpf;

namespace SfcProxy.Proxy;

// Stopping: left attached for the next daemon, or detached step by step.
public sealed partial class BpfProxyDatapath
{
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
}
