namespace SfcProxy.Bpf;

/// <summary>
/// A link whose program was replaced, holding the program it ran before (a program lives while
/// something holds it; the link's own reference went with the update). <see cref="Revert"/> puts it
/// back; disposing lets it go.
/// </summary>
public sealed class ProgramSwap : IDisposable
{
    private readonly SafeFileDescriptorHandle _earlier;
    private readonly Action _revert;

    internal ProgramSwap(SafeFileDescriptorHandle earlier, Action revert)
    {
        _earlier = earlier;
        _revert = revert;
    }

    /// <summary>Atomically swaps the earlier program back in, then lets it go.</summary>
    public void Revert()
    {
        try
        {
            _revert();
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose() => _earlier.Dispose();
}
