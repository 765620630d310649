namespace SfcProxy.Configuration;

/// <summary>
/// The "SfcProxy" section of the config file: one instance, running the modules the file configures
/// (the SFC proxy, the DSR load balancer, the identity policy). This file holds the fields every
/// instance has; each module's fields come from its <see cref="IOptionsSection"/> in <see cref="Sections"/>
/// (the SFC proxy's sit at the root of the section, declared in Proxy/Options/ProxyFields.cs).
/// Enum-like values are lowercase strings in JSON ("header-hash"); <see cref="SfcProxyOptionsBinder"/>
/// turns them into enums.
/// </summary>
public sealed partial class SfcProxyOptions
{
    /// <summary>Name of the configuration section.</summary>
    public const string SectionName = "SfcProxy";

    /// <summary>
    /// Instance name, <c>[a-z0-9][a-z0-9_-]{0,31}</c>. Several proxies can run on one host; the name
    /// keeps their pins (<c>&lt;PinRoot&gt;/&lt;Instance&gt;/</c>) and sockets apart. Default "default".
    /// </summary>
    public string Instance { get; set; } = "default";

    /// <summary>The local stats and control socket.</summary>
    public ControlSocketOptions Socket { get; set; } = new();

    /// <summary>The optional Prometheus endpoint (off unless <see cref="MetricsOptions.Listen"/> is set).</summary>
    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>
    /// bpffs directory under which the instance pins its maps and links, so a restarted daemon keeps
    /// the cached headers. Default "/sys/fs/bpf/sfcproxy".
    /// </summary>
    public string PinRoot { get; set; } = "/sys/fs/bpf/sfcproxy";

    /// <summary>
    /// Directory under which the instance keeps what must survive a restart and is no BPF map
    /// (bpffs holds no plain files): <c>&lt;StateDirectory&gt;/&lt;Instance&gt;/</c>, today the DSR load
    /// balancer's live backend changes (<c>dsr-live.json</c>). Default "/var/lib/sfcproxy" (systemd's
    /// <c>StateDirectory=sfcproxy</c>).
    /// </summary>
    public string StateDirectory { get; set; } = "/var/lib/sfcproxy";

    /// <summary>Minimum log level: "debug", "information" (default), "warning", "error". Reloads on SIGHUP.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>The modules' parts of the section, in the order they are bound and checked.</summary>
    internal List<IOptionsSection> Sections { get; } = [];

    /// <summary>The section of one module (it must be among <see cref="Sections"/>).</summary>
    internal T Section<T>() where T : IOptionsSection => Sections.OfType<T>().Single();

    /// <summary>Control socket path: <see cref="ControlSocketOptions.Path"/> or the per-instance default.</summary>
    internal string SocketPath => Socket.Path ?? ControlSocketOptions.DefaultPathFor(Instance);

    /// <summary>Pin directory of this instance.</summary>
    internal string PinDirectory => System.IO.Path.Combine(PinRoot, Instance);

    /// <summary>
    /// Values the binder could not convert (unknown names, non-numbers, unknown fields). The validator
    /// reports them together with its own findings, so one run shows every mistake.
    /// </summary>
    internal List<string> BindingFailures { get; } = [];
}
