using System.Text.Json.Serialization;
using SfcProxy.Configuration;

namespace SfcProxy.Proxy;

/// <summary>
/// The answer to <c>{"request":"histograms"}</c>: time spent in the VNF (pop to restore), per
/// encapsulation and per chain (MPLS top label, NSH SPI), as log2 buckets of nanoseconds: bucket i
/// counts [2^i, 2^(i+1)) ns. The counts are a sample of one packet in sampleEvery per CPU.
/// </summary>
internal sealed record LatencyAnswer(LatencyBody Latency)
{
    [JsonPropertyOrder(-1)]
    public bool Ok => true;

    public static LatencyAnswer From(LatencyReport report) => new(new LatencyBody(
        report.ChainCapacity, report.SampleEvery,
        [.. report.Encapsulations.Select(e => new EncapsulationLatencyBody(OptionValues.Encapsulations.NameOf(e.Encapsulation), e.Chains,
            e.Histogram.Count, e.Histogram.P50Ns, e.Histogram.P90Ns, e.Histogram.P99Ns, e.Histogram.Buckets))],
        [.. report.Chains.Select(c => new ChainLatencyBody(OptionValues.Encapsulations.NameOf(c.Encapsulation), c.Chain,
            c.Histogram.Count, c.Histogram.P50Ns, c.Histogram.P90Ns, c.Histogram.P99Ns, c.Histogram.Buckets))]));
}

internal sealed record LatencyBody(
    uint ChainCapacity, uint SampleEvery, IReadOnlyList<EncapsulationLatencyBody> Encapsulations, IReadOnlyList<ChainLatencyBody> Chains);

/// <param name="P50Ns">Upper bound of the median's bucket; null (written as null) when nothing was sampled. So P90Ns, P99Ns.</param>
internal sealed record EncapsulationLatencyBody(
    string Encap, int Chains, ulong Count, ulong? P50Ns, ulong? P90Ns, ulong? P99Ns, IReadOnlyList<ulong> Buckets);

internal sealed record ChainLatencyBody(
    string Encap, uint Chain, ulong Count, ulong? P50Ns, ulong? P90Ns, ulong? P99Ns, IReadOnlyList<ulong> Buckets);
