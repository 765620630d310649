using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;

namespace SfcProxy.Policy;

/// <summary>The outcome of <see cref="ActivePolicy.Apply"/>: the policy now in force, or why nothing changed.</summary>
public sealed record PolicyApplyResult(CompiledPolicy? Policy, IReadOnlyList<string> Errors, TimeSpan CompileTime)
{
    public bool Applied => Policy is not null;
}

/// <summary>
/// The daemon's policy: reads the configured files, compiles them and hands the tables to the
/// datapath, at start and on each <c>policy-apply</c>. A set of files with any error changes nothing.
/// Keeps the compiled policy in force to name rules and identities in answers.
/// </summary>
public sealed partial class ActivePolicy(IPolicyDatapath datapath, IReadOnlyList<string> files, ILogger<ActivePolicy> logger)
{
    private readonly Lock _applying = new();
    private CompiledPolicy? _current;

    public IReadOnlyList<string> Files => files;

    /// <summary>The policy in force, or null before the first successful apply.</summary>
    public CompiledPolicy? Current => Volatile.Read(ref _current);

    /// <summary>Reads and compiles the files and applies them; on any error the datapath keeps what it has.</summary>
    /// <exception cref="Exception">Whatever <see cref="IPolicyDatapath.Apply"/> throws (nothing changed then either).</exception>
    public PolicyApplyResult Apply()
    {
        lock (_applying)
        {
            var clock = Stopwatch.StartNew();
            var set = PolicySet.Load(files, out var errors);
            if (set is null)
            {
                LogRejected(errors.Count, string.Join("; ", errors));
                return new PolicyApplyResult(null, errors, clock.Elapsed);
            }
            var compiled = PolicyCompiler.Compile(set);
            var compileTime = clock.Elapsed;
            datapath.Apply(compiled.Tables);
            Volatile.Write(ref _current, compiled);
            LogApplied(files.Count, compiled.Identities.Count, compiled.Rules.Count, compiled.Tables.Rules.Count,
                compiled.Tables.EnforcedIdentities.Count, compileTime.TotalMilliseconds);
            return new PolicyApplyResult(compiled, [], compileTime);
        }
    }

    /// <summary>The datapath's verdict.</summary>
    public PolicyCheckResult Check(IPAddress source, IPAddress destination, byte protocol, ushort port) =>
        datapath.Check(source, destination, protocol, port);

    /// <summary>Packets allowed per rule id, from the datapath.</summary>
    public IReadOnlyDictionary<uint, ulong> RuleHits() => datapath.RuleHits();

    /// <summary>The datapath's outcome and detail counters.</summary>
    public IReadOnlyDictionary<PolicyCounter, ulong> ReadCounters() => datapath.ReadCounters();

    [LoggerMessage(EventId = Hosting.EventIds.PolicyApplied, Level = LogLevel.Information,
        Message = "Policy applied from {Files} files: {Identities} identities, {Rules} rules, {Entries} entries, {Enforced} enforced identities (compiled in {CompileMs:0.0} ms)")]
    private partial void LogApplied(int files, int identities, int rules, int entries, int enforced, double compileMs);

    [LoggerMessage(EventId = Hosting.EventIds.PolicyRejected, Level = LogLevel.Error, Message = "Policy files rejected, the policy in force is unchanged ({Count} errors): {Errors}")]
    private partial void LogRejected(int count, string errors);
}
