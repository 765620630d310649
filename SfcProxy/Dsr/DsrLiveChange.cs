using System.Net;

namespace SfcProxy.Dsr;

/// <summary>
/// One backend change made at run time (`sfcproxy dsr backend add|remove|weight`) that the config
/// file does not say: the live table is the config's services with these on top, one per
/// (service, backend).
/// </summary>
/// <param name="Weight">The backend's live weight in the service; null: removed from it.</param>
/// <param name="ConfigWeight">What the config in force said when the change was made: the backend's
/// weight there, null when the config's service did not list it. The change holds only while the
/// config still says that (see <see cref="DsrOverlay"/>).</param>
/// <param name="At">When the change was made.</param>
public sealed record DsrLiveChange(DsrServiceKey Service, IPAddress Address, uint? Weight, uint? ConfigWeight, DateTimeOffset At)
{
    /// <summary>"weight 0", "weight 2", "removed".</summary>
    public static string Describe(uint? weight) => weight is { } w ? $"weight {w}" : "removed";
}

/// <summary>A live change the config replaced, and why (for the log).</summary>
public sealed record DsrReplacedChange(DsrLiveChange Change, string Reason);

/// <summary>
/// How the live changes and the config file make the table in force.
/// </summary>
/// <remarks>
/// <para><b>The rule: the newer word wins, per (service, backend).</b> A live change records what the
/// config said about that backend when it was made. While the config (read at start and on SIGHUP)
/// still says the same, the live change holds: a restart or a reload with an untouched config never
/// undoes a drain. Once the config says something else about that backend (the operator edited the
/// file after the change, for instance to make the change permanent, or to undo it) the config is the
/// newer word: the live change is dropped and logged. A change whose service is no longer in the
/// config is dropped too. So: to make a live change permanent, write it into the config and reload;
/// to drop one, set the backend back with another live change, or write anything for that backend
/// into the config.</para>
/// <para>Why not "live always wins": a config edit would then silently do nothing for a backend
/// someone once changed by hand, and nothing would ever clear the overlay. Why not "config always
/// wins": every restart would undo the drains, which is the bug this fixes.</para>
/// </remarks>
public static class DsrOverlay
{
    /// <summary>The config's services with the changes that still hold put on top.</summary>
    /// <returns>The services in force, the changes that hold, and those the config replaced.</returns>
    public static (List<DsrServiceConfig> Services, List<DsrLiveChange> Kept, List<DsrReplacedChange> Replaced) Apply(
        IReadOnlyList<DsrServiceConfig> config, IReadOnlyList<DsrLiveChange> changes)
    {
        var services = config.Select(s => s with { Backends = s.Backends.ToList() }).ToList();
        var kept = new List<DsrLiveChange>();
        var replaced = new List<DsrReplacedChange>();
        foreach (var change in changes)
        {
            var index = services.FindIndex(s => Key(s) == change.Service);
            if (index < 0)
            {
                replaced.Add(new(change, $"service {change.Service} is no longer in the config"));
                continue;
            }
            var configWeight = WeightIn(config[index], change.Address);
            if (configWeight != change.ConfigWeight)
            {
                replaced.Add(new(change, $"the config now says {Say(configWeight)} (it said {Say(change.ConfigWeight)} when the change was made)"));
                continue;
            }
            if (change.Weight == configWeight)
                continue; // says what the config says: nothing to keep
            var backends = services[index].Backends.Where(b => !b.Address.Equals(change.Address)).ToList();
            if (change.Weight is { } w)
            {
                // In place when the config lists it, so the order shown stays the config's.
                var at = services[index].Backends.ToList().FindIndex(b => b.Address.Equals(change.Address));
                backends.Insert(at < 0 ? backends.Count : at, new DsrBackendConfig(change.Address, w));
            }
            services[index] = services[index] with { Backends = backends };
            kept.Add(change);
        }
        return (services, kept, replaced);
    }

    /// <summary>The changes after one more: the backend's new live <paramref name="weight"/> (null:
    /// removed) in <paramref name="service"/>, over what <paramref name="config"/> says. A change back to
    /// what the config says leaves no entry.</summary>
    public static List<DsrLiveChange> Record(IReadOnlyList<DsrLiveChange> changes, IReadOnlyList<DsrServiceConfig> config,
        DsrServiceKey service, IPAddress address, uint? weight, DateTimeOffset at)
    {
        var result = changes.Where(c => !(c.Service == service && c.Address.Equals(address))).ToList();
        var configWeight = config.FirstOrDefault(s => Key(s) == service) is { } s ? WeightIn(s, address) : null;
        if (weight != configWeight)
            result.Add(new DsrLiveChange(service, address, weight, configWeight, at));
        return result;
    }

    public static DsrServiceKey Key(DsrServiceConfig s) => new(s.Vip, s.Port, s.Protocol);

    private static uint? WeightIn(DsrServiceConfig service, IPAddress address) =>
        service.Backends.FirstOrDefault(b => b.Address.Equals(address))?.Weight;

    private static string Say(uint? weight) => weight is { } w ? $"weight {w}" : "not listed";
}
