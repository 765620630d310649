using System.Globalization;
using System.Text.Json;
using SfcProxy.Metrics;

namespace SfcProxy.Policy;

/// <summary>
/// The policy module's metric families, read at each scrape: packets per verdict (the outcome
/// counters, one per packet), the detail events, and the packets each rule allowed, named by the
/// rule in force.
/// </summary>
internal sealed class PolicyMetrics(ActivePolicy policy) : IMetricsSource
{
    /// <summary>Label value of a counter: its name in snake_case ("denied_default"), as docs/policy.md lists them.</summary>
    public static string CounterLabel(PolicyCounter counter) => JsonNamingPolicy.SnakeCaseLower.ConvertName(counter.ToString());

    public void AddTo(InstanceMetrics metrics)
    {
        var f = metrics.Factory;
        var verdicts = new KernelCounterFamily(f, "sfcproxy_policy_packets_total",
            "Packets the policy programs judged, by outcome (exactly one per packet; POL_CNT_* of bpf/policy/policy_shared.h): allowed_*, not_ip pass; denied_default, malformed drop.",
            "outcome");
        var events = new KernelCounterFamily(f, "sfcproxy_policy_events_total",
            "Policy events on the way to an outcome: ct_created, ct_revoked, no_tables.", "event");
        var rules = new KernelCounterFamily(f, "sfcproxy_policy_rule_packets_total",
            "Forward packets a rule allowed (rules in force; ids up to 65,535 are counted).", "rule_id", "rule");

        metrics.OnScrape(() =>
        {
            var counters = policy.ReadCounters();
            for (var c = (PolicyCounter)0; c < PolicyCounter.Max; c++)
                (PolicyOutcomes.IsOutcome(c) ? verdicts : events).Set(counters.TryGetValue(c, out var v) ? v : 0, CounterLabel(c));
            if (policy.Current is { } current)
            {
                var hits = policy.RuleHits();
                foreach (var rule in current.Rules)
                    rules.Set(hits.TryGetValue(rule.Id, out var h) ? h : 0, rule.Id.ToString(CultureInfo.InvariantCulture), rule.Name);
            }
            verdicts.EndScrape();
            events.EndScrape();
            rules.EndScrape();
        });
    }
}
