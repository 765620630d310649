using System.Text;
using System.Text.RegularExpressions;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy.Datapath.Contract;

/// <summary>What the run covered: inputs by kind and their xdp_rx outcomes, emissions by VNF behaviour
/// and their tc_tx outcomes. Printed with every run, so a generator that stopped reaching a case shows.</summary>
internal sealed partial class ContractStats
{
    public long Inputs { get; private set; }
    public long Emissions { get; private set; }
    /// <summary>Emissions for which only a restore (or the TTL/SI drop) was acceptable.</summary>
    public long MustRestore { get; private set; }

    public SortedDictionary<string, SortedDictionary<string, long>> RxByKind { get; } = [];
    public SortedDictionary<string, SortedDictionary<string, long>> TxByBehaviour { get; } = [];
    /// <summary>tc_tx outcomes by the encapsulation the emission's packet arrived with ("None": VNF-originated).</summary>
    public SortedDictionary<string, SortedDictionary<string, long>> TxByEncap { get; } = [];

    public void Rx(ContractPacket x, Counter? outcome)
    {
        Inputs++;
        Count(RxByKind, Kind(x), outcome?.ToString() ?? "(counters)");
    }

    public void Tx(Emission em, Counter outcome, bool missOk)
    {
        Emissions++;
        if (!missOk)
            MustRestore++;
        Count(TxByBehaviour, Number().Replace(em.Behaviour, "N"), outcome.ToString());
        Count(TxByEncap, (em.Source?.Encap ?? Encapsulation.None).ToString(), outcome.ToString());
    }

    /// <summary>Runs counted in the rows of the table ("rx" or "tx") whose name contains <paramref name="row"/>.</summary>
    public long Reached(string table, string row) =>
        (table == "rx" ? RxByKind : TxByBehaviour).Where(kv => kv.Key.Contains(row, StringComparison.Ordinal))
            .Sum(kv => kv.Value.Values.Sum());

    private static string Kind(ContractPacket x)
    {
        if (x.Headers is null)
            return $"malformed/not SFC: {x.Shape}";
        if (x.Family.Length > 0)
            return $"{x.Encap} family {x.Family}";
        var info = IpInfo.Parse(x.Ip);
        var proto = info.Protocol switch { 6 => "tcp", 17 => "udp", 1 or 58 => "icmp", _ => "other" };
        var ext = info.IsV6 && (info.TransportOffset != 40 || info.IsFragment) ? "+ext" : "";
        var opts = !info.IsV6 && info.HeaderLength > 20 ? "+options" : "";
        var small = info.TotalLength - Math.Max(info.TransportOffset, info.HeaderLength) < 20 ? " short" : "";
        return $"{x.Encap}{(x.OverEthernet ? "/eth" : "")} ipv{info.Version}{ext}{opts} {proto}{small}";
    }

    private static void Count(SortedDictionary<string, SortedDictionary<string, long>> table, string row, string column)
    {
        if (!table.TryGetValue(row, out var r))
            table[row] = r = [];
        r[column] = r.GetValueOrDefault(column) + 1;
    }

    public string Format()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"inputs {Inputs}, emissions judged {Emissions} ({MustRestore} of them had to be restored)");
        sb.AppendLine("xdp_rx outcome by input kind:");
        foreach (var (row, cols) in RxByKind)
            sb.AppendLine($"  {row,-58} {string.Join(" ", cols.Select(c => $"{c.Key}={c.Value}"))}");
        sb.AppendLine("tc_tx outcome by VNF behaviour:");
        foreach (var (row, cols) in TxByBehaviour)
            sb.AppendLine($"  {row,-58} {string.Join(" ", cols.Select(c => $"{c.Key}={c.Value}"))}");
        sb.AppendLine("tc_tx outcome by encapsulation:");
        foreach (var (row, cols) in TxByEncap)
            sb.AppendLine($"  {row,-58} {string.Join(" ", cols.Select(c => $"{c.Key}={c.Value}"))}");
        return sb.ToString();
    }

    [GeneratedRegex(@"(0x[0-9a-f]+|#?\d+)")]
    private static partial Regex Number();
}
