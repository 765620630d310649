namespace SfcProxy.Bpf;

/// <summary>Reading the per-CPU u64 counter arrays every datapath keeps (one slot per counter enum
/// value, incremented on the CPU that saw the packet, summed here).</summary>
public static class PerCpuCounters
{
    /// <summary>The counter at <paramref name="key"/>, summed over the CPUs.</summary>
    public static ulong Sum(this BpfMap map, uint key)
    {
        ulong sum = 0;
        foreach (var v in map.LookupPerCpu<uint, ulong>(key))
            sum += v;
        return sum;
    }

    /// <summary>Every counter below <paramref name="max"/> (the enum's count member), summed over the CPUs.</summary>
    public static IReadOnlyDictionary<TCounter, ulong> SumAll<TCounter>(this BpfMap map, TCounter max)
        where TCounter : struct, Enum
    {
        var result = new Dictionary<TCounter, ulong>();
        for (uint c = 0; c < Convert.ToUInt32(max); c++)
            result[(TCounter)Enum.ToObject(typeof(TCounter), c)] = map.Sum(c);
        return result;
    }
}
