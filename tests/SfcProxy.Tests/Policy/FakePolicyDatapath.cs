using System.Net;
using SfcProxy.Policy;

namespace SfcProxy.Tests.Policy;

/// <summary>Stand-in for the policy datapath: records applied tables, answers checks from them with the model, fixed hits.</summary>
internal sealed class FakePolicyDatapath : IPolicyDatapath
{
    public List<PolicyTables> Applied { get; } = [];
    public Dictionary<uint, ulong> Hits { get; } = new() { [1] = 42 };
    private CompiledPolicy? _model;

    /// <summary>The model the fake answers checks with (the test sets it: tables alone carry no names).</summary>
    public void AnswerWith(CompiledPolicy model) => _model = model;

    public void Apply(PolicyTables tables)
    {
        lock (Applied)
            Applied.Add(tables);
    }

    public PolicyCheckResult Check(IPAddress source, IPAddress destination, byte protocol, ushort port) =>
        (_model ?? CompiledPolicy.Empty).Check(source, destination, protocol, port);

    public IReadOnlyDictionary<uint, ulong> RuleHits() => Hits;

    /// <summary>What <see cref="ReadCounters"/> answers.</summary>
    public Dictionary<PolicyCounter, ulong> Counters { get; } = new() { [PolicyCounter.AllowedRule] = 7, [PolicyCounter.DeniedDefault] = 3 };

    public IReadOnlyDictionary<PolicyCounter, ulong> ReadCounters() => Counters;
}
