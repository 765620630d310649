namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>One thing that happens in an episode, in time order.</summary>
internal abstract record Step(double Time);

/// <summary>xdp_rx gets the packet's frame.</summary>
internal sealed record RxStep(double Time, ContractPacket Packet) : Step(Time);

/// <summary>The VNF emits a frame: tc_tx gets it.</summary>
internal sealed record EmitStep(double Time, Emission Emission) : Step(Time);

/// <summary>Header-hash mode: "now" is read for the next aging sweep's cutoff.</summary>
internal sealed record CutoffStep(double Time) : Step(Time);

/// <summary>Header-hash mode: the host's aging sweep (CacheAging) deletes entries popped before the cutoff.</summary>
internal sealed record SweepStep(double Time) : Step(Time);

/// <summary>A few packets, families or datagrams arriving and leaving the VNF, interleaved.</summary>
internal sealed class Episode(int number)
{
    public int Number { get; } = number;
    public List<Step> Steps { get; } = [];
    public List<ContractPacket> Inputs { get; } = [];
    /// <summary>An identical-inner-packet family with different headers is in this episode: no sweep,
    /// since once one entry is aged no datapath can tell the other copies from it.</summary>
    public bool NoSweep { get; set; }
}
