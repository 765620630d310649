using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace SfcProxy.Policy;

/// <summary>An endpoint of a policy file: its CIDRs all get the identity of its label set.</summary>
/// <param name="Origin">Where it was written, for messages: <c>policy.yaml: endpoints[0] 'web'</c>.</param>
public sealed record PolicyEndpoint(string Name, IReadOnlyList<IPNetwork> Cidrs, LabelSet Labels, string Origin);

/// <summary>A rule of a policy file: traffic <see cref="From"/> -> <see cref="To"/> on <see cref="Ports"/> is allowed.</summary>
/// <param name="Ports">Empty: every protocol and port.</param>
/// <param name="Origin">Where it was written, for messages: <c>policy.yaml: rules[3] 'web-from-lb'</c>.</param>
public sealed record PolicyRule(string Name, LabelSelector From, LabelSelector To, IReadOnlyList<PolicyPort> Ports, string Origin);

/// <summary>One entry of a rule's <c>ports</c>: a protocol name and a port (0 = every port).</summary>
public readonly record struct PolicyPort(string Protocol, ushort Port);

/// <summary>
/// Reads one policy file (JSON or YAML by extension) into endpoints and rules. Never throws for bad
/// content: every problem is added to the error list as
/// <c>FILE: rules[3] 'name': ports[1].port: message</c> (indexes from 0) and the item is left out, so
/// one run reports every mistake.
/// </summary>
internal sealed partial class PolicyFile
{
    private readonly string _file;
    private readonly ICollection<string> _errors;

    private PolicyFile(string file, ICollection<string> errors)
    {
        _file = file;
        _errors = errors;
    }

    public List<PolicyEndpoint> Endpoints { get; } = [];
    public List<PolicyRule> Rules { get; } = [];

    /// <summary>Reads <paramref name="path"/>; problems go to <paramref name="errors"/>.</summary>
    public static PolicyFile Read(string path, ICollection<string> errors)
    {
        var file = new PolicyFile(path, errors);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.Add($"{path}: cannot read: {e.Message}");
            return file;
        }
        file.ReadText(text);
        return file;
    }

    /// <summary>Reads <paramref name="text"/> as the content of a file named <paramref name="path"/>.</summary>
    public static PolicyFile Parse(string path, string text, ICollection<string> errors)
    {
        var file = new PolicyFile(path, errors);
        file.ReadText(text);
        return file;
    }

    private void ReadText(string text)
    {
        PolicyNode root;
        try
        {
            root = PolicyNode.Parse(_file, text);
        }
        catch (PolicyFormatException e)
        {
            _errors.Add($"{_file}: {e.Message}");
            return;
        }
        if (root is ScalarNode { Text: null })
            return; // An empty file: no endpoints, no rules.
        if (root is not MapNode top)
        {
            _errors.Add($"{_file}: expected a map with 'endpoints' and 'rules', got {root.Kind}");
            return;
        }
        RejectUnknown(top, _file, "", "endpoints", "rules");

        var endpoints = ListOf(top["endpoints"], _file, "endpoints");
        for (int i = 0; i < endpoints.Count; i++)
            ReadEndpoint(endpoints[i], i);
        var rules = ListOf(top["rules"], _file, "rules");
        for (int i = 0; i < rules.Count; i++)
            ReadRule(rules[i], i);
    }

    private void ReadEndpoint(PolicyNode node, int index)
    {
        if (!AsMap(node, $"{_file}: endpoints[{index}]", out var map))
            return;
        string? name = Name(map);
        string origin = Origin("endpoints", index, name);
        int before = _errors.Count;
        if (name is null)
            ReadName(map, origin);
        RejectUnknown(map, origin, "", "name", "cidrs", "labels");

        var cidrs = new List<IPNetwork>();
        var cidrNodes = ListOf(map["cidrs"], origin, "cidrs");
        if (map["cidrs"] is null)
            _errors.Add($"{origin}: cidrs: required (at least one CIDR)");
        else if (cidrNodes.Count == 0 && map["cidrs"] is ListNode)
            _errors.Add($"{origin}: cidrs: empty (at least one CIDR)");
        for (int i = 0; i < cidrNodes.Count; i++)
        {
            if (Cidr(cidrNodes[i], origin, $"cidrs[{i}]") is { } cidr && !cidrs.Contains(cidr))
                cidrs.Add(cidr);
        }

        var labels = Labels(map["labels"], origin, "labels");
        if (_errors.Count == before && name is not null)
            Endpoints.Add(new PolicyEndpoint(name, cidrs, new LabelSet(labels), origin));
    }

    private void ReadRule(PolicyNode node, int index)
    {
        if (!AsMap(node, $"{_file}: rules[{index}]", out var map))
            return;
        string? name = Name(map);
        string origin = Origin("rules", index, name);
        int before = _errors.Count;
        if (name is null)
            ReadName(map, origin);
        RejectUnknown(map, origin, "", "name", "from", "to", "ports");

        var from = Selector(map["from"], origin, "from");
        var to = Selector(map["to"], origin, "to");
        var ports = new List<PolicyPort>();
        var portNodes = ListOf(map["ports"], origin, "ports");
        for (int i = 0; i < portNodes.Count; i++)
        {
            if (Port(portNodes[i], origin, $"ports[{i}]") is { } port && !ports.Contains(port))
                ports.Add(port);
        }
        if (_errors.Count == before && name is not null && from is not null && to is not null)
            Rules.Add(new PolicyRule(name, from, to, ports, origin));
    }

    private string Origin(string list, int index, string? name) =>
        name is null ? $"{_file}: {list}[{index}]" : $"{_file}: {list}[{index}] '{name}'";

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$")]
    private static partial Regex ItemName();

    // Kubernetes-like label syntax: keys may carry a prefix ("k8s.io/app"), values may be empty.
    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$")]
    private static partial Regex LabelKey();

    [GeneratedRegex("^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$")]
    private static partial Regex LabelValue();

    /// <summary>The item's name when it is valid (reported by <see cref="ReadName"/> otherwise).</summary>
    private static string? Name(MapNode map) =>
        map["name"] is ScalarNode { Text: { } text } && ItemName().IsMatch(text) ? text : null;

    private void ReadName(MapNode map, string origin)
    {
        switch (map["name"])
        {
            case null or ScalarNode { Text: null }:
                _errors.Add($"{origin}: name: required");
                break;
            case ScalarNode { Text: { } text }:
                _errors.Add($"{origin}: name: '{text}' must be 1-64 letters, digits, '.', '_' or '-', starting and ending with a letter or digit");
                break;
            case var other:
                _errors.Add($"{origin}: name: expected a name, got {other.Kind}");
                break;
        }
    }

    private IPNetwork? Cidr(PolicyNode node, string origin, string field)
    {
        if (node is not ScalarNode { Text: { } text })
        {
            _errors.Add($"{origin}: {field}: expected a CIDR like 198.18.10.0/24, got {node.Kind}");
            return null;
        }
        text = text.Trim();
        int slash = text.IndexOf('/');
        string addressText = slash < 0 ? text : text[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%'))
        {
            _errors.Add($"{origin}: {field}: '{text}' is not an IPv4 or IPv6 CIDR");
            return null;
        }
        int maxLength = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        int length = maxLength;
        if (slash >= 0 && (!int.TryParse(text[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > maxLength))
        {
            _errors.Add($"{origin}: {field}: '{text}': the prefix length must be 0..{maxLength}");
            return null;
        }
        var network = new IPNetwork(Masked(address, length), length);
        if (!network.BaseAddress.Equals(address))
        {
            _errors.Add($"{origin}: {field}: '{text}' has host bits set (did you mean {network}?)");
            return null;
        }
        return network;
    }

    private static IPAddress Masked(IPAddress address, int length)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = length; bit < bytes.Length * 8; bit++)
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPAddress(bytes);
    }

    private List<KeyValuePair<string, string>> Labels(PolicyNode? node, string origin, string field)
    {
        var labels = new List<KeyValuePair<string, string>>();
        if (node is null or ScalarNode { Text: null })
            return labels;
        if (node is not MapNode map)
        {
            _errors.Add($"{origin}: {field}: expected a map of key: value, got {node.Kind}");
            return labels;
        }
        foreach (var (key, value) in map.Entries)
        {
            if (!LabelKey().IsMatch(key))
                _errors.Add($"{origin}: {field}.{key}: '{key}' is not a label key (letters, digits, '.', '_', '-', '/'; starting and ending with a letter or digit)");
            else if (value is not ScalarNode { Text: { } text })
                _errors.Add($"{origin}: {field}.{key}: expected a value, got {value.Kind}");
            else if (!LabelValue().IsMatch(text))
                _errors.Add($"{origin}: {field}.{key}: '{text}' is not a label value (up to 63 letters, digits, '.', '_', '-')");
            else
                labels.Add(new(key, text));
        }
        return labels;
    }

    private LabelSelector? Selector(PolicyNode? node, string origin, string field)
    {
        if (node is null)
        {
            _errors.Add($"{origin}: {field}: required ({{}} selects every endpoint)");
            return null;
        }
        if (node is ScalarNode { Text: null })
            return LabelSelector.Match([]);
        if (!AsMap(node, $"{origin}: {field}", out var map))
            return null;
        RejectUnknown(map, origin, field + ".", "matchLabels", "reserved");
        int before = _errors.Count;
        var labels = Labels(map["matchLabels"], origin, field + ".matchLabels");
        switch (map["reserved"])
        {
            case null:
                return _errors.Count == before ? LabelSelector.Match(labels) : null;
            case ScalarNode { Text: "world" }:
                if (map["matchLabels"] is not null)
                {
                    _errors.Add($"{origin}: {field}: give either matchLabels or reserved, not both");
                    return null;
                }
                return LabelSelector.World;
            case var other:
                _errors.Add($"{origin}: {field}.reserved: {other.Kind} is not a reserved identity (known: world)");
                return null;
        }
    }

    private PolicyPort? Port(PolicyNode node, string origin, string field)
    {
        if (!AsMap(node, $"{origin}: {field}", out var map))
            return null;
        RejectUnknown(map, origin, field + ".", "protocol", "port");
        string? protocol = null;
        switch (map["protocol"])
        {
            case null or ScalarNode { Text: null }:
                _errors.Add($"{origin}: {field}.protocol: required (one of {PolicyProtocol.RuleNames})");
                break;
            case ScalarNode { Text: { } text } when PolicyProtocol.OfRuleName(text) is not null:
                protocol = text.ToLowerInvariant();
                break;
            case var other:
                _errors.Add($"{origin}: {field}.protocol: {other.Kind} is not one of {PolicyProtocol.RuleNames}");
                break;
        }

        ushort port = 0;
        bool portOk = true;
        switch (map["port"])
        {
            case null or ScalarNode { Text: null }:
                break;
            case ScalarNode { Text: { } text }:
                text = text.Trim();
                if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int number))
                {
                    if (number is < 1 or > ushort.MaxValue)
                    {
                        _errors.Add($"{origin}: {field}.port: {number} is out of range 1..65535");
                        portOk = false;
                    }
                    else
                    {
                        port = (ushort)number;
                    }
                }
                else
                {
                    _errors.Add(text.Contains('-')
                        ? $"{origin}: {field}.port: '{text}': port ranges are not supported; list single ports, or leave port out for every port"
                        : $"{origin}: {field}.port: '{text}' is not a port number 1..65535");
                    portOk = false;
                }
                break;
            case var other:
                _errors.Add($"{origin}: {field}.port: expected a port number, got {other.Kind}");
                portOk = false;
                break;
        }

        if (protocol is null || !portOk)
            return null;
        if (port != 0 && protocol is "icmp" or "any")
        {
            _errors.Add($"{origin}: {field}.port: {protocol} has no ports; leave port out");
            return null;
        }
        return new PolicyPort(protocol, port);
    }

    private List<PolicyNode> ListOf(PolicyNode? node, string origin, string field)
    {
        switch (node)
        {
            case null or ScalarNode { Text: null }:
                return [];
            case ListNode list:
                return list.Items.ToList();
            default:
                _errors.Add($"{origin}: {field}: expected a list, got {node.Kind}");
                return [];
        }
    }

    private bool AsMap(PolicyNode node, string where, out MapNode map)
    {
        if (node is MapNode m)
        {
            map = m;
            return true;
        }
        _errors.Add($"{where}: expected a map, got {node.Kind}");
        map = null!;
        return false;
    }

    private void RejectUnknown(MapNode map, string origin, string prefix, params string[] known)
    {
        foreach (var (key, _) in map.Entries)
        {
            if (!known.Contains(key))
                _errors.Add($"{origin}: {prefix}{key}: unknown field (known fields: {string.Join(", ", known)})");
        }
    }
}
