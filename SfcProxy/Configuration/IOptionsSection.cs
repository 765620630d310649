namespace SfcProxy.Configuration;

/// <summary>
/// One module's part of the "SfcProxy" section. The core binds and checks the fields every instance
/// has (instance, pins, socket, log level); each module contributes its own fields through one of
/// these, which the composition root puts into <see cref="SfcProxyOptions.Sections"/>, so the core
/// names no module's types.
/// </summary>
internal interface IOptionsSection
{
    /// <summary>What configures the module and what it is, for people: "Interfaces (the SFC proxy)".</summary>
    string Description { get; }

    /// <summary>True when the file configures the module: the composition root adds only those.</summary>
    bool IsConfigured { get; }

    /// <summary>The module's own object below "SfcProxy" ("Dsr") when the module is set up at start, so
    /// any change to it needs a restart; null when the module reloads its fields itself.</summary>
    string? RestartOnlySection { get; }

    /// <summary>Paths below <see cref="RestartOnlySection"/> that the module applies on SIGHUP itself
    /// (through its IModuleReload), so a change there is no restart note ("Dsr:Services").</summary>
    IReadOnlyList<string> LiveSubsections => [];

    /// <summary>Reads the module's fields from the root of the section (its own object, or flat
    /// fields); values that do not convert become failures of <paramref name="root"/>.</summary>
    void Bind(ConfigSectionReader root, SfcProxyOptions options);

    /// <summary>Adds one failure, starting with the field's path, for every mistake in the module's fields.</summary>
    /// <param name="existingInterfaces">Interfaces that exist here; null skips the checks against this host.</param>
    void Validate(SfcProxyOptions options, IReadOnlySet<string>? existingInterfaces, List<string> failures);

    /// <summary>The XDP hooks the module attaches to, by the field that names the interface.</summary>
    IEnumerable<XdpHookClaim> XdpHooks(SfcProxyOptions options);
}

/// <summary>An interface whose XDP hook a module takes: an interface holds one XDP program.</summary>
/// <param name="Field">The field naming the interface, below "SfcProxy" ("Interfaces:Ingress").</param>
/// <param name="Program">The program attached there ("xdp_rx").</param>
internal sealed record XdpHookClaim(string Field, string Interface, string Program);
