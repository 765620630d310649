using SfcProxy.Proxy.Options;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Configuration;

// The SFC proxy's fields sit at the root of the "SfcProxy" section (the file format predates the
// other modules and does not change), so they are declared on the root options type; this half of
// it lives with the module that reads them. ProxySection binds and checks them.
public sealed partial class SfcProxyOptions
{
    /// <summary>
    /// SFC encapsulations this instance takes off at ingress and puts back at egress: "mpls"
    /// (SR-MPLS label stack), "nsh" (RFC 8300) and/or "srv6" (RFC 8754 SRH, End.AD per packet, to
    /// the SIDs in Srv6:Sids), mixed on one interface. A packet with an
    /// encapsulation not listed passes untouched. Default ["mpls"].
    /// </summary>
    public IList<Encapsulation> Encapsulations { get; set; } = [Encapsulation.Mpls];

    /// <summary>NSH settings.</summary>
    public NshOptions Nsh { get; set; } = new();

    /// <summary>SRv6 settings: the proxy SIDs and the static miss policy's header.</summary>
    public Srv6Options Srv6 { get; set; } = new();

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
}
