namespace SfcProxy.Proxy;

/// <summary>
/// Runs the steps of a teardown (or a rollback) each on its own: a step that fails is recorded and
/// the next one runs anyway, so one stuck pin never leaves GRO off or the other programs attached.
/// </summary>
internal sealed class Teardown
{
    private readonly List<StepFailure> _failures = [];

    public IReadOnlyList<StepFailure> Failures => _failures;

    /// <returns>Whether the step succeeded.</returns>
    public bool Run(string step, Action action)
    {
        try
        {
            action();
            return true;
        }
        catch (Exception e)
        {
            _failures.Add(new StepFailure(step, e));
            return false;
        }
    }
}

/// <summary>One step of a teardown or rollback that failed.</summary>
internal sealed record StepFailure(string Step, Exception Error)
{
    public override string ToString() => $"{Step}: {Error.Message}";
}

/// <summary>A teardown finished every step, and these failed.</summary>
internal sealed class TeardownException(string what, IReadOnlyList<StepFailure> failures)
    : Exception($"{what}: {failures.Count} step(s) failed: " + string.Join("; ", failures))
{
    public IReadOnlyList<StepFailure> Failures { get; } = failures;
}
