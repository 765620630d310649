using System.Net;

namespace SfcProxy.Policy;

/// <summary>
/// The endpoints and rules of one or more policy files, read in the order given. Rule ids are
/// 1-based in that order (file by file, rule by rule); names are unique across all files.
/// </summary>
public sealed class PolicySet
{
    private PolicySet(IReadOnlyList<string> files, IReadOnlyList<PolicyEndpoint> endpoints, IReadOnlyList<PolicyRule> rules)
    {
        Files = files;
        Endpoints = endpoints;
        Rules = rules;
    }

    public IReadOnlyList<string> Files { get; }
    public IReadOnlyList<PolicyEndpoint> Endpoints { get; }
    public IReadOnlyList<PolicyRule> Rules { get; }

    /// <summary>Reads and checks every file; the set is null when any file has an error, and the errors say all of them.</summary>
    public static PolicySet? Load(IReadOnlyList<string> files, out IReadOnlyList<string> errors) =>
        Build(files, files.Select(path => (Func<List<string>, PolicyFile>)(e => PolicyFile.Read(path, e))), out errors);

    /// <summary><see cref="Load"/> for texts in memory: (name, text) pairs, the name's extension picking the format.</summary>
    public static PolicySet? Parse(IReadOnlyList<(string Name, string Text)> files, out IReadOnlyList<string> errors) =>
        Build(files.Select(f => f.Name).ToList(),
            files.Select(f => (Func<List<string>, PolicyFile>)(e => PolicyFile.Parse(f.Name, f.Text, e))), out errors);

    private static PolicySet? Build(IReadOnlyList<string> names, IEnumerable<Func<List<string>, PolicyFile>> readers, out IReadOnlyList<string> errors)
    {
        var found = new List<string>();
        var endpoints = new List<PolicyEndpoint>();
        var rules = new List<PolicyRule>();
        foreach (var read in readers)
        {
            var file = read(found);
            endpoints.AddRange(file.Endpoints);
            rules.AddRange(file.Rules);
        }

        CheckUniqueNames(endpoints.Select(e => (e.Name, e.Origin)), "endpoint", found);
        CheckUniqueNames(rules.Select(r => (r.Name, r.Origin)), "rule", found);
        CheckCidrs(endpoints, found);

        errors = found;
        return found.Count == 0 ? new PolicySet(names, endpoints, rules) : null;
    }

    private static void CheckUniqueNames(IEnumerable<(string Name, string Origin)> items, string what, List<string> errors)
    {
        var first = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, origin) in items)
        {
            if (!first.TryAdd(name, origin))
                errors.Add($"{origin}: name: another {what} is already called '{name}' ({first[name]})");
        }
    }

    /// <summary>One CIDR has one identity: the same CIDR in endpoints with different labels is an error (overlaps are fine).</summary>
    private static void CheckCidrs(List<PolicyEndpoint> endpoints, List<string> errors)
    {
        var owner = new Dictionary<IPNetwork, PolicyEndpoint>();
        foreach (var endpoint in endpoints)
        {
            for (int i = 0; i < endpoint.Cidrs.Count; i++)
            {
                var cidr = endpoint.Cidrs[i];
                if (!owner.TryAdd(cidr, endpoint) && !owner[cidr].Labels.Equals(endpoint.Labels))
                {
                    var other = owner[cidr];
                    errors.Add($"{endpoint.Origin}: cidrs[{i}]: {cidr} is also a CIDR of {other.Origin} with other labels " +
                               $"({{{other.Labels}}} vs {{{endpoint.Labels}}}); a CIDR has one identity");
                }
            }
        }
    }
}
