namespace SfcProxy.Proxy;

/// <summary>
/// What a start changed in what it found, each change recorded with the step that undoes it, so a
/// start that fails at any point (its own attach, or a service that starts after it) puts back
/// exactly what it found: links running the programs they ran, pins, the datapath's settings, GRO
/// and the GRO note. Undone in reverse order, every step whatever the others do.
/// </summary>
internal sealed class StartJournal
{
    private readonly List<(string What, Action Undo, Action? Release)> _changes = [];

    /// <param name="what">The undo step, for the log when it fails ("put tc_tx's earlier program back into link_tc_tx@eth1").</param>
    /// <param name="release">Run instead of <paramref name="undo"/> once the start is kept (frees what the undo needed).</param>
    public void Record(string what, Action undo, Action? release = null) => _changes.Add((what, undo, release));

    /// <summary>Undoes every recorded change, newest first; returns the steps that failed.</summary>
    public IReadOnlyList<StepFailure> RollBack()
    {
        var teardown = new Teardown();
        for (var i = _changes.Count - 1; i >= 0; i--)
            teardown.Run(_changes[i].What, _changes[i].Undo);
        _changes.Clear();
        return teardown.Failures;
    }

    /// <summary>The start is kept: nothing will be undone.</summary>
    public void Commit()
    {
        var teardown = new Teardown();
        foreach (var (what, _, release) in _changes)
        {
            if (release is not null)
                teardown.Run(what, release);
        }
        _changes.Clear();
    }
}
