using SfcProxy.Configuration;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy.Options;

/// <summary>
/// The SFC proxy's part of the "SfcProxy" section: its fields sit at the root of the section
/// (<see cref="SfcProxyOptions"/>' SFC half). The module is configured when the file has
/// <c>Interfaces</c>; its fields are checked only then.
/// </summary>
internal sealed class ProxySection : IOptionsSection
{
    private const string Root = SfcProxyOptions.SectionName;

    internal const int MaxCacheSize = 16 * 1024 * 1024;
    internal const int MaxLatencySampleEvery = 1024 * 1024;
    /// <summary>Cache:MaxAge bounds: an entry aged out faster than 1 ms would be a live packet's; one
    /// kept over an hour is a lost packet's memory, and such a value is a typo ("5" for five days).</summary>
    internal static readonly TimeSpan MinMaxAge = TimeSpan.FromMilliseconds(1), MaxMaxAge = TimeSpan.FromHours(1);

    public string Description => "Interfaces (the SFC proxy)";

    public bool IsConfigured { get; private set; }

    // The proxy's fields reload live (ProxyReload), except those it lists as restart-only.
    public string? RestartOnlySection => null;

    public void Bind(ConfigSectionReader root, SfcProxyOptions options)
    {
        IsConfigured = root.IsPresent(nameof(options.Interfaces));

        var encaps = root.Array(nameof(options.Encapsulations)).ToList();
        if (encaps.Count > 0)
            options.Encapsulations = encaps.Select(e => e.OwnChoice(Encapsulation.None, OptionValues.Encapsulations)).ToList();
        else if (root.IsPresent(nameof(options.Encapsulations)))
            options.Encapsulations = []; // written empty: refused by the validator, never the default

        options.KeyMode = root.Choice(nameof(options.KeyMode), options.KeyMode, OptionValues.KeyModes);
        options.XdpMode = root.Choice(nameof(options.XdpMode), options.XdpMode, OptionValues.XdpModes);
        options.ConsumedSegments = root.Int(nameof(options.ConsumedSegments), options.ConsumedSegments);
        options.MissPolicy = root.Choice(nameof(options.MissPolicy), options.MissPolicy, OptionValues.MissPolicies);
        options.DisableGro = root.Bool(nameof(options.DisableGro), options.DisableGro);
        options.DetachOnStop = root.Bool(nameof(options.DetachOnStop), options.DetachOnStop);
        options.LatencySampleEvery = root.Int(nameof(options.LatencySampleEvery), options.LatencySampleEvery);

        var interfaces = root.Object(nameof(options.Interfaces));
        options.Interfaces.Ingress = interfaces.String(nameof(ProxyInterfacesOptions.Ingress), options.Interfaces.Ingress);
        options.Interfaces.Egress = interfaces.String(nameof(ProxyInterfacesOptions.Egress), options.Interfaces.Egress);
        options.Interfaces.Vnf = interfaces.String(nameof(ProxyInterfacesOptions.Vnf), options.Interfaces.Vnf);
        interfaces.RejectUnknownKeys();

        var stack = root.Array(nameof(options.StaticStack));
        if (stack.Any())
            options.StaticStack = stack.Select(BindLabelEntry).ToList();

        var cache = root.Object(nameof(options.Cache));
        options.Cache.SizeGiven = cache.Has(nameof(CacheOptions.Size));
        options.Cache.Size = cache.Int(nameof(CacheOptions.Size), options.Cache.Size);
        options.Cache.MaxAge = cache.Duration(nameof(CacheOptions.MaxAge), options.Cache.MaxAge);
        cache.RejectUnknownKeys();

        var metadata = root.Object(nameof(options.Metadata));
        if (metadata.String(nameof(MetadataOptions.MarkMask), null) is { } mask)
        {
            if (MetadataOptions.TryParseMask(mask, out var parsed))
                options.Metadata.MarkMask = parsed;
            else
                options.BindingFailures.Add($"{metadata.Path}:{nameof(MetadataOptions.MarkMask)}: '{mask}' is not a 32-bit mask (\"0xffff0000\" or a number)");
        }
        options.Metadata.Fingerprint = metadata.Choice(nameof(MetadataOptions.Fingerprint), options.Metadata.Fingerprint, OptionValues.Fingerprints);
        metadata.RejectUnknownKeys();
        // Metadata mode: the cache cannot hold more slots than the mark bits can name (a size the
        // file gives is checked against them by the validator). Its own default is smaller: its
        // packets are in the VNF for microseconds, and the mask's bits above the slot index carry
        // the slot's generation, which tells a late packet's key from the slot's next owner.
        if (options.KeyMode == KeyMode.Metadata && !options.Cache.SizeGiven)
            options.Cache.Size = (int)Math.Min(CacheOptions.DefaultMetadataSize, MetadataOptions.Capacity(options.Metadata.MarkMask));

        var nsh = root.Object(nameof(options.Nsh));
        options.Nsh.NextHopMac = nsh.String(nameof(NshOptions.NextHopMac), options.Nsh.NextHopMac);
        nsh.RejectUnknownKeys();

        Srv6Config.Bind(root, options);
    }

    private static LabelEntryOptions BindLabelEntry(ConfigSectionReader element)
    {
        var entry = new LabelEntryOptions();
        // Label 0 is a real label (IPv4 explicit null), so a missing label must not default to it.
        element.Require(nameof(entry.Label));
        entry.Label = element.Int(nameof(entry.Label), entry.Label);
        entry.Ttl = element.Int(nameof(entry.Ttl), entry.Ttl);
        entry.Tc = element.Int(nameof(entry.Tc), entry.Tc);
        element.RejectUnknownKeys();
        return entry;
    }

    public IEnumerable<XdpHookClaim> XdpHooks(SfcProxyOptions options) =>
        IsConfigured && !string.IsNullOrWhiteSpace(options.Interfaces.Ingress)
            ? [new XdpHookClaim("Interfaces:Ingress", options.Interfaces.Ingress, "xdp_rx")]
            : [];

    public void Validate(SfcProxyOptions options, IReadOnlySet<string>? existingInterfaces, List<string> failures)
    {
        // The proxy's fields are checked even when Interfaces is absent (a DSR-only or policy-only
        // file): a wrong Cache:Size there is a mistake the file should hear about, as it always did.
        ValidateChoices(options, failures);
        if (IsConfigured)
            ValidateInterfaces(options, existingInterfaces, failures);
        ValidateStaticStack(options, failures);
        Srv6Config.Validate(options, failures);

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
        var slots = options.Cache.Size is > 0 and <= MaxCacheSize ? MetadataSlots.Capacity((uint)options.Cache.Size) : (uint)Math.Max(options.Cache.Size, 0);
        if (options.KeyMode == KeyMode.Metadata && slots > capacity)
            failures.Add($"{Root}:Cache:Size: {options.Cache.Size} ({slots} slots, one ring per CPU) needs more mark bits than Metadata:MarkMask {text} has " +
                $"({System.Numerics.BitOperations.PopCount(mask)} bits name at most {capacity} slots and keep {MetadataOptions.GenerationBits} for the slot's generation): widen the mask or shrink the cache");
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
        if (options.Nsh.NextHopMac is { } mac && !MacAddressText.TryParse(mac, out _))
            failures.Add($"{Root}:Nsh:NextHopMac: '{mac}' is not a MAC address like \"02:00:00:00:00:01\"");
        if (!OptionValues.KeyModes.IsDefined(options.KeyMode))
            failures.Add($"{Root}:KeyMode: '{options.KeyMode}' is not one of {OptionValues.KeyModes.Accepted}");
        if (!OptionValues.MissPolicies.IsDefined(options.MissPolicy))
            failures.Add($"{Root}:MissPolicy: '{options.MissPolicy}' is not one of {OptionValues.MissPolicies.Accepted}");
        if (!OptionValues.XdpModes.IsDefined(options.XdpMode))
            failures.Add($"{Root}:XdpMode: '{options.XdpMode}' is not one of {OptionValues.XdpModes.Accepted}");
    }

    private static void ValidateInterfaces(SfcProxyOptions options, IReadOnlySet<string>? existing, List<string> failures)
    {
        var interfaces = options.Interfaces;

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
        if (options.MissPolicy == MissPolicy.Static && stack.Count == 0 && options.Srv6.Static is null)
            failures.Add($"{Root}:StaticStack: required (at least one label entry) when MissPolicy is 'static' (or an SRv6 header in Srv6:Static)");
        if (stack.Count > 0 && options.Srv6.Static is not null)
            failures.Add($"{Root}:Srv6:Static: StaticStack is given too; a miss pushes one fallback header, name one of them");
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
}
