using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using SfcProxy.Datapath;

namespace SfcProxy.Configuration;

/// <summary>
/// Checks a bound <see cref="SfcProxyOptions"/> before anything is loaded or attached. Collects every
/// failure, each starting with the field's configuration path ("SfcProxy:Interfaces:Ingress: ...").
/// </summary>
public sealed partial class SfcProxyOptionsValidator : IValidateOptions<SfcProxyOptions>
{
    private const string Root = SfcProxyOptions.SectionName;

    /// <summary>Longest sun_path (108 bytes including the terminating NUL).</summary>
    internal const int MaxSocketPathBytes = 107;
    internal const int MaxCacheSize = 16 * 1024 * 1024;
    internal const int MaxLatencySampleEvery = 1024 * 1024;
    /// <summary>Cache:MaxAge bounds: an entry aged out faster than 1 ms would be a live packet's; one
    /// kept over an hour is a lost packet's memory, and such a value is a typo ("5" for five days).</summary>
    internal static readonly TimeSpan MinMaxAge = TimeSpan.FromMilliseconds(1), MaxMaxAge = TimeSpan.FromHours(1);

    private readonly Func<IReadOnlySet<string>>? _interfaceNames;

    /// <summary>Validator that checks the interfaces exist in the current network namespace.</summary>
    public SfcProxyOptionsValidator() : this(NetworkInterfaceNames.Current) { }

    /// <param name="interfaceNames">
    /// Supplies the existing interface names; null skips the existence check (validating a config
    /// meant for another host).
    /// </param>
    internal SfcProxyOptionsValidator(Func<IReadOnlySet<string>>? interfaceNames) => _interfaceNames = interfaceNames;

    public ValidateOptionsResult Validate(string? name, SfcProxyOptions options)
    {
        var failures = new List<string>(options.BindingFailures);

        ValidateInstance(options, failures);
        ValidateChoices(options, failures);
        ValidateInterfaces(options, failures);
        ValidateStaticStack(options, failures);
        ValidatePaths(options, failures);
        ValidateSocketGroup(options, failures);
        PolicyOptionsValidation.Validate(options.Policy, _interfaceNames?.Invoke(), failures);
        DsrOptionsValidation.Validate(options.Dsr, _interfaceNames?.Invoke(), failures, options.Interfaces.Ingress);

        if (options.ConsumedSegments is < 0 or > SfcLimits.MaxLabels)
            failures.Add($"{Root}:ConsumedSegments: {options.ConsumedSegments} is out of range 0..{SfcLimits.MaxLabels}");
        if (options.LatencySampleEvery is < 1 or > MaxLatencySampleEvery)
            failures.Add($"{Root}:LatencySampleEvery: {options.LatencySampleEvery} is out of range 1..{MaxLatencySampleEvery}");
        if (options.Cache.Size is < 1 or > MaxCacheSize)
            failures.Add($"{Root}:Cache:Size: {options.Cache.Size} is out of range 1..{MaxCacheSize}");
        if (options.Cache.MaxAge < MinMaxAge || options.Cache.MaxAge > MaxMaxAge)
            failures.Add($"{Root}:Cache:MaxAge: {Durations.Format(options.Cache.MaxAge)} is out of range " +
                         $"{Durations.Format(MinMaxAge)}..{Durations.Format(MaxMaxAge)} (longer than the VNF can hold a packet, shorter than forever)");
        ValidateMarkMask(options, failures);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The metadata key's mark bits: one run of bits, and room for every slot of the cache.</summary>
    private static void ValidateMarkMask(SfcProxyOptions options, List<string> failures)
    {
        var mask = options.Metadata.MarkMask;
        var text = MetadataOptions.Format(mask);
        if (!MetadataOptions.IsContiguous(mask))
        {
            failures.Add($"{Root}:Metadata:MarkMask: {text} must be one run of set bits (e.g. 0xffff0000), so the key can be shifted into it");
            return;
        }
        // The array holds Cache:Size rounded to whole rings, at least one slot per CPU.
        var capacity = MetadataOptions.Capacity(mask);
        var slots = options.Cache.Size is > 0 and <= MaxCacheSize ? Proxy.MetadataSlots.Capacity((uint)options.Cache.Size) : (uint)Math.Max(options.Cache.Size, 0);
        if (options.KeyMode == KeyMode.Metadata && slots > capacity)
            failures.Add($"{Root}:Cache:Size: {options.Cache.Size} ({slots} slots, one ring per CPU) needs more mark bits than Metadata:MarkMask {text} has " +
                $"({System.Numerics.BitOperations.PopCount(mask)} bits name at most {capacity} slots and keep {MetadataOptions.GenerationBits} for the slot's generation): widen the mask or shrink the cache");
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,31}$")]
    private static partial Regex InstanceName();

    private static void ValidateInstance(SfcProxyOptions options, List<string> failures)
    {
        if (!InstanceName().IsMatch(options.Instance))
            failures.Add($"{Root}:Instance: '{options.Instance}' must match [a-z0-9][a-z0-9_-]{{0,31}} " +
                         "(it becomes part of the pin directory and the socket path)");
    }

    // Values set from code (or cast from integers) bypass the binder's name tables; check them here.
    private static void ValidateChoices(SfcProxyOptions options, List<string> failures)
    {
        if (options.Encapsulations.Count == 0)
            failures.Add($"{Root}:Encapsulations: name at least one of {OptionValues.Encapsulations.Accepted}");
        for (var i = 0; i < options.Encapsulations.Count; i++)
        {
            if (!OptionValues.Encapsulations.IsDefined(options.Encapsulations[i]))
                failures.Add($"{Root}:Encapsulations:{i}: '{options.Encapsulations[i]}' is not one of {OptionValues.Encapsulations.Accepted}");
        }
        if (options.Nsh.NextHopMac is { } mac && !NshOptions.TryParseMac(mac, out _))
            failures.Add($"{Root}:Nsh:NextHopMac: '{mac}' is not a MAC address like \"02:00:00:00:00:01\"");
        if (!OptionValues.KeyModes.IsDefined(options.KeyMode))
            failures.Add($"{Root}:KeyMode: '{options.KeyMode}' is not one of {OptionValues.KeyModes.Accepted}");
        if (!OptionValues.MissPolicies.IsDefined(options.MissPolicy))
            failures.Add($"{Root}:MissPolicy: '{options.MissPolicy}' is not one of {OptionValues.MissPolicies.Accepted}");
        if (!OptionValues.LogLevels.IsDefined(options.LogLevel))
            failures.Add($"{Root}:LogLevel: '{options.LogLevel}' is not one of {OptionValues.LogLevels.Accepted}");
        if (!OptionValues.XdpModes.IsDefined(options.XdpMode))
            failures.Add($"{Root}:XdpMode: '{options.XdpMode}' is not one of {OptionValues.XdpModes.Accepted}");
    }

    private void ValidateInterfaces(SfcProxyOptions options, List<string> failures)
    {
        var interfaces = options.Interfaces;
        IReadOnlySet<string>? existing = _interfaceNames?.Invoke();

        void Check(string field, string? value, bool required)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                if (required)
                    failures.Add($"{Root}:Interfaces:{field}: required");
                return;
            }
            if (NetworkInterfaceNames.Problem(value) is { } problem)
                failures.Add($"{Root}:Interfaces:{field}: {problem}");
            else if (existing is not null && !existing.Contains(value))
                failures.Add($"{Root}:Interfaces:{field}: interface '{value}' does not exist in this network namespace");
        }

        Check(nameof(interfaces.Ingress), interfaces.Ingress, required: true);
        Check(nameof(interfaces.Egress), interfaces.Egress, required: true);
        Check(nameof(interfaces.Vnf), interfaces.Vnf, required: false);

        if (string.IsNullOrWhiteSpace(interfaces.Vnf))
            return;
        if (interfaces.Vnf == interfaces.Ingress)
            failures.Add($"{Root}:Interfaces:Vnf: must differ from Interfaces:Ingress ('{interfaces.Ingress}'): " +
                         "popped packets would be redirected back into xdp_rx");
        if (options.KeyMode == KeyMode.Metadata)
            failures.Add($"{Root}:KeyMode: 'metadata' cannot be used with Interfaces:Vnf set: the cache key rides in " +
                         "skb->mark, which is scrubbed when the packet crosses into the VNF's network namespace, so " +
                         "tc egress would never find the cached headers; use 'header-hash' or run the VNF in this namespace");
    }

    private static void ValidateStaticStack(SfcProxyOptions options, List<string> failures)
    {
        var stack = options.StaticStack;
        if (options.MissPolicy == MissPolicy.Static && stack.Count == 0)
            failures.Add($"{Root}:StaticStack: required (at least one label entry) when MissPolicy is 'static'");
        if (stack.Count > SfcLimits.MaxLabels)
            failures.Add($"{Root}:StaticStack: {stack.Count} entries, at most {SfcLimits.MaxLabels} are supported");

        for (int i = 0; i < stack.Count; i++)
        {
            var entry = stack[i];
            string path = $"{Root}:StaticStack:{i}";
            if (entry is null)
            {
                failures.Add($"{path}: empty entry");
                continue;
            }
            if (entry.Label is < 0 or > LabelEntryOptions.MaxLabel)
                failures.Add($"{path}:Label: {entry.Label} is out of range 0..{LabelEntryOptions.MaxLabel} (20-bit MPLS label)");
            if (entry.Ttl is < 1 or > 255)
                failures.Add($"{path}:Ttl: {entry.Ttl} is out of range 1..255");
            if (entry.Tc is < 0 or > 7)
                failures.Add($"{path}:Tc: {entry.Tc} is out of range 0..7");
        }
    }

    private void ValidateSocketGroup(SfcProxyOptions options, List<string> failures)
    {
        string? group = options.Socket.Group;
        if (group is null)
            return;
        if (string.IsNullOrWhiteSpace(group))
            failures.Add($"{Root}:Socket:Group: must name a group (or be left out)");
        // Like the interfaces, groups are this host's: skipped when checking a config for another host.
        else if (_interfaceNames is not null && Control.UnixGroup.IdOf(group) is null)
            failures.Add($"{Root}:Socket:Group: group '{group}' does not exist on this host");
    }

    private static void ValidatePaths(SfcProxyOptions options, List<string> failures)
    {
        if (!System.IO.Path.IsPathFullyQualified(options.PinRoot))
            failures.Add($"{Root}:PinRoot: '{options.PinRoot}' must be an absolute path (a directory on bpffs)");

        string field = options.Socket.Path is null ? $"{Root}:Instance" : $"{Root}:Socket:Path";
        string socketPath = options.SocketPath;
        if (!System.IO.Path.IsPathFullyQualified(socketPath))
            failures.Add($"{Root}:Socket:Path: '{socketPath}' must be an absolute path");
        else if (Encoding.UTF8.GetByteCount(socketPath) > MaxSocketPathBytes)
            failures.Add($"{field}: socket path '{socketPath}' is longer than the {MaxSocketPathBytes} bytes a Unix socket path may have");
        else if (Encoding.UTF8.GetByteCount(System.IO.Path.GetDirectoryName(socketPath) ?? "") + Control.ControlSocketFile.PrivatePathOverhead > MaxSocketPathBytes)
            failures.Add($"{field}: the directory of '{socketPath}' is longer than {MaxSocketPathBytes - Control.ControlSocketFile.PrivatePathOverhead} bytes " +
                         "(the socket is made in a private directory there first, then renamed into place)");
    }
}
