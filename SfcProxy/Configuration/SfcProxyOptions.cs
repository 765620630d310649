using SfcProxy.Datapath;

namespace SfcProxy.Configuration;

/// <summary>
/// The "SfcProxy" section of the config file: one proxy instance in front of one SFC-unaware VNF.
/// Enum-like values are lowercase strings in JSON ("header-hash"); <see cref="SfcProxyOptionsBinder"/>
/// turns them into the enums shared with the datapath.
/// </summary>
public sealed class SfcProxyOptions
{
    /// <summary>Name of the configuration section.</summary>
    public const string SectionName = "SfcProxy";

    /// <summary>
    /// Instance name, <c>[a-z0-9][a-z0-9_-]{0,31}</c>. Several proxies can run on one host; the name
    /// keeps their pins (<c>&lt;PinRoot&gt;/&lt;Instance&gt;/</c>) and sockets apart. Default "default".
    /// </summary>
    public string Instance { get; set; } = "default";

    /// <summary>
    /// SFC encapsulations this instance takes off at ingress and puts back at egress: "mpls"
    /// (SR-MPLS label stack) and/or "nsh" (RFC 8300), mixed on one interface. A packet with an
    /// encapsulation not listed passes untouched. Default ["mpls"].
    /// </summary>
    public IList<Encapsulation> Encapsulations { get; set; } = [Encapsulation.Mpls];

    /// <summary>NSH settings.</summary>
    public NshOptions Nsh { get; set; } = new();

    /// <summary>
    /// How a packet leaving the VNF is matched to the headers cached when it arrived.
    /// "header-hash" (default) works with any non-NAT VNF; "metadata" is faster but only works for an
    /// in-kernel VNF in this network namespace.
    /// </summary>
    public KeyMode KeyMode { get; set; } = KeyMode.HeaderHash;

    /// <summary>Where packets enter, leave, and (optionally) are redirected to the VNF.</summary>
    public ProxyInterfacesOptions Interfaces { get; set; } = new();

    /// <summary>XDP attach mode on the ingress interface. Default "native" (driver mode).</summary>
    public XdpMode XdpMode { get; set; } = XdpMode.Native;

    /// <summary>
    /// Label stack entries the VNF's own segment uses up, removed before the stack is pushed back.
    /// 0..16, default 1.
    /// </summary>
    public int ConsumedSegments { get; set; } = 1;

    /// <summary>What tc egress does with a packet that has no cached headers. Default "drop".</summary>
    public MissPolicy MissPolicy { get; set; } = MissPolicy.Drop;

    /// <summary>
    /// Fallback label stack pushed on a miss when <see cref="MissPolicy"/> is "static", top first,
    /// at most 16 entries. The bottom-of-stack bit is set on the last entry by the proxy.
    /// </summary>
    public IList<LabelEntryOptions> StaticStack { get; set; } = [];

    /// <summary>
    /// The VNF latency histograms take one packet in this many per CPU (1..1048576, default 64):
    /// tc_tx's clock read and histogram update cost ~90 ns, so recording every packet (1) slows the
    /// datapath; `sfcproxy latency` then shows a sample. Reloads on SIGHUP.
    /// </summary>
    public int LatencySampleEvery { get; set; } = DefaultLatencySampleEvery;

    /// <summary>Default of <see cref="LatencySampleEvery"/>: ~7,000 samples a second at 450,000 packets/s.</summary>
    internal const int DefaultLatencySampleEvery = 64;

    /// <summary>Size and aging of the header cache (the shared BPF hash map).</summary>
    public CacheOptions Cache { get; set; } = new();

    /// <summary>Settings of the metadata key mode (the skb->mark bits it uses).</summary>
    public MetadataOptions Metadata { get; set; } = new();

    /// <summary>The local stats and control socket.</summary>
    public ControlSocketOptions Socket { get; set; } = new();

    /// <summary>
    /// bpffs directory under which the instance pins its maps and links, so a restarted daemon keeps
    /// the cached headers. Default "/sys/fs/bpf/sfcproxy".
    /// </summary>
    public string PinRoot { get; set; } = "/sys/fs/bpf/sfcproxy";

    /// <summary>
    /// Turn GRO off on the ingress interface while the proxy runs (default true): GRO would merge
    /// popped packets into one skb whose headers no longer match any single cache entry.
    /// </summary>
    public bool DisableGro { get; set; } = true;

    /// <summary>
    /// On SIGTERM/SIGINT, detach the programs and remove the pins (default true). false: the programs
    /// stay attached and the maps pinned when the daemon exits, so a restart (or an upgrade) takes
    /// over without losing a packet; `sfcproxy detach` removes a left-attached instance.
    /// </summary>
    public bool DetachOnStop { get; set; } = true;

    /// <summary>Minimum log level: "debug", "information" (default), "warning", "error". Reloads on SIGHUP.</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; set; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>
    /// The identity-based policy module (optional; off when it names no files). Independent of the
    /// proxy fields above.
    /// </summary>
    public PolicyOptions Policy { get; set; } = new();

    /// <summary>The IP-in-IP DSR load balancer and/or its backend side (optional; off when absent).</summary>
    public DsrOptions Dsr { get; set; } = new();

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
