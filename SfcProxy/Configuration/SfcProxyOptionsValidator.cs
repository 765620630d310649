using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace SfcProxy.Configuration;

/// <summary>
/// Checks a bound <see cref="SfcProxyOptions"/> before anything is loaded or attached: the fields every
/// instance has, then each module's section, then what the modules share (an interface's XDP hook).
/// Collects every failure, each starting with the field's configuration path ("SfcProxy:Interfaces:Ingress: ...").
/// </summary>
public sealed partial class SfcProxyOptionsValidator : IValidateOptions<SfcProxyOptions>
{
    private const string Root = SfcProxyOptions.SectionName;

    /// <summary>Longest sun_path (108 bytes including the terminating NUL).</summary>
    internal const int MaxSocketPathBytes = 107;

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
        if (!OptionValues.LogLevels.IsDefined(options.LogLevel))
            failures.Add($"{Root}:LogLevel: '{options.LogLevel}' is not one of {OptionValues.LogLevels.Accepted}");
        ValidatePaths(options, failures);
        ValidateSocketGroup(options, failures);
        if (options.Metrics.Listen is { } listen && MetricsListenAddress.Parse(listen, out string listenReason) is null)
            failures.Add($"{Root}:Metrics:Listen: {listenReason}");

        var existingInterfaces = _interfaceNames?.Invoke();
        foreach (var module in options.Sections)
            module.Validate(options, existingInterfaces, failures);
        ValidateXdpHooks(options, failures);
        if (!options.Sections.Any(module => module.IsConfigured))
            failures.Add($"{Root}: no module is configured; set at least one of " +
                         string.Join(", ", options.Sections.Select(module => module.Description)));

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>An interface holds one XDP program: two modules cannot both attach theirs to it.</summary>
    private static void ValidateXdpHooks(SfcProxyOptions options, List<string> failures)
    {
        var taken = new Dictionary<string, XdpHookClaim>();
        foreach (var claim in options.Sections.SelectMany(module => module.XdpHooks(options)))
        {
            if (taken.TryGetValue(claim.Interface, out var first))
                failures.Add($"{Root}:{claim.Field}: must differ from {first.Field} ('{claim.Interface}'): " +
                             $"an interface holds one XDP program, and {first.Program} is attached there");
            else
                taken.Add(claim.Interface, claim);
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,31}$")]
    private static partial Regex InstanceName();

    private static void ValidateInstance(SfcProxyOptions options, List<string> failures)
    {
        if (!InstanceName().IsMatch(options.Instance))
            failures.Add($"{Root}:Instance: '{options.Instance}' must match [a-z0-9][a-z0-9_-]{{0,31}} " +
                         "(it becomes part of the pin directory and the socket path)");
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
        if (!System.IO.Path.IsPathFullyQualified(options.StateDirectory))
            failures.Add($"{Root}:StateDirectory: '{options.StateDirectory}' must be an absolute path");

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
