using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SfcProxy.Bpf;
using SfcProxy.Configuration;

namespace SfcProxy.Policy;

/// <summary>
/// The policy module in the kernel: policy_tc at tc ingress and egress of every
/// <c>SfcProxy:Policy:Interfaces</c>, so every packet crossing one, either way, is judged and the
/// connections an enforced endpoint opens are tracked where their first packet leaves; its maps are
/// pinned under &lt;PinRoot&gt;/&lt;Instance&gt;-policy/. It attaches on the first
/// <see cref="Apply"/>, so no packet meets the program before it has tables; it detaches and removes
/// its pins (connection tracking included) when disposed.
/// </summary>
public sealed partial class BpfPolicyDatapath : IPolicyDatapath, IDisposable
{
    private readonly SfcProxyOptions _options;
    private readonly ILogger<BpfPolicyDatapath> _log;
    private readonly Lock _gate = new();
    private readonly List<BpfLink> _links = [];
    private PolicyObjects? _objects;

    public BpfPolicyDatapath(IOptions<SfcProxyOptions> options, ILogger<BpfPolicyDatapath> log)
    {
        _options = options.Value;
        _log = log;
    }

    public void Apply(PolicyTables tables)
    {
        lock (_gate)
        {
            if (_objects is null)
            {
                BpfEnvironment.EnsureReady(_options.PinRoot);
                _objects = PolicyObjects.Load(new BpfPins($"{_options.Instance}-policy", _options.PinRoot));
            }
            _objects.Apply(tables);
            if (_links.Count == 0)
            {
                try
                {
                    foreach (var ifname in _options.Policy.Interfaces)
                    {
                        _links.Add(_objects.Attach(ifname, TcDirection.Ingress));
                        _links.Add(_objects.Attach(ifname, TcDirection.Egress));
                    }
                }
                catch
                {
                    Detach();
                    throw;
                }
                LogAttached(string.Join(", ", _options.Policy.Interfaces), _objects.Pins.Directory);
            }
        }
    }

    public PolicyCheckResult Check(IPAddress source, IPAddress destination, byte protocol, ushort port)
    {
        var probe = Objects.Check(source, destination, protocol, port);
        // Allowed without a rule: not enforced, or exempt (IPv6 neighbour discovery).
        var verdict = probe.Outcome == PolicyCounter.AllowedRule ? PolicyVerdict.AllowedByRule
            : probe.Allowed ? PolicyVerdict.AllowedNotEnforced
            : PolicyVerdict.DeniedByDefault;
        return new PolicyCheckResult(verdict, probe.SourceIdentity, probe.DestinationIdentity, probe.RuleId);
    }

    public IReadOnlyDictionary<uint, ulong> RuleHits() => Objects.ReadRuleHits();

    public IReadOnlyDictionary<PolicyCounter, ulong> ReadCounters() => Objects.ReadCounters();

    private PolicyObjects Objects
    {
        get
        {
            lock (_gate)
                return _objects ?? throw new InvalidOperationException("no policy applied yet");
        }
    }

    private void Detach()
    {
        foreach (var link in _links)
            link.Dispose();
        _links.Clear();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Detach();
            PinnedObjects.Unload(ref _objects);
        }
    }

    [LoggerMessage(EventId = Hosting.EventIds.PolicyAttached, Level = LogLevel.Information, Message = "policy_tc attached at tc ingress and egress of {Interfaces}; maps pinned in {PinDirectory}")]
    private partial void LogAttached(string interfaces, string pinDirectory);
}
