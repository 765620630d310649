namespace SfcProxy.Bpf;

/// <summary>A loaded BPF object whose maps are pinned in an instance directory of its own.</summary>
public interface IPinnedObjects : IDisposable
{
    BpfPins Pins { get; }
}

public static class PinnedObjects
{
    /// <summary>Closes the objects (if loaded) and removes their pins: what a module that detaches on
    /// stop does last, after its links. Sets <paramref name="objects"/> to null.</summary>
    public static void Unload<T>(ref T? objects) where T : class, IPinnedObjects
    {
        if (objects is null)
            return;
        var pins = objects.Pins;
        objects.Dispose();
        objects = null;
        pins.Remove();
    }
}
