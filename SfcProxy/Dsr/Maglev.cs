using System.Net;
using System.Net.Sockets;

namespace SfcProxy.Dsr;

/// <summary>A backend of a service as configured: its address and weight (0 = draining: it gets no
/// new flows, but stays in <see cref="DsrTables.Backends"/> so flows the datapath's connection table
/// already pinned to it keep reaching it).</summary>
public sealed record DsrBackendConfig(IPAddress Address, uint Weight = 1);

/// <summary>A service as configured: VIP, port, protocol (6 TCP, 17 UDP) and its backends.</summary>
public sealed record DsrServiceConfig(IPAddress Vip, ushort Port, byte Protocol, IReadOnlyList<DsrBackendConfig> Backends);

/// <summary>
/// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
/// Balancer", NSDI 2016, section 3.4), with weights.
/// </summary>
/// <remarks>
/// <para>Each backend has a preference list over the M slots (M prime): slot j of its list is
/// <c>(offset + j * skip) mod M</c> with <c>offset = h1(name) mod M</c> and
/// <c>skip = h2(name) mod (M - 1) + 1</c>; as M is prime and 0 &lt; skip &lt; M, the list is a
/// permutation of all slots. The table is filled in rounds: in each round every backend, in a fixed
/// order (by name), earns <c>weight / max weight</c> of a turn, and for each whole turn it has earned
/// takes its next preferred slot that is still free (with equal weights this is the paper's
/// algorithm: one slot per backend per round). Filling stops when all M slots are taken, so a
/// backend's slot count is within about one slot of <c>M * weight / total weight</c> (weight turns
/// taken in a burst per round would not do: when the total weight nears M, the backends early in the
/// last round would get a whole extra weight of slots).</para>
/// <para>The name is the backend's address (its 4 or 16 bytes); h1 and h2 are FNV-1a 64 over the
/// name with two different seeds, each finished with the murmur3 64-bit finalizer (FNV alone mixes
/// short inputs poorly). Everything is deterministic: the same backends and weights give the same
/// table, in every process, on every machine.</para>
/// </remarks>
public static class Maglev
{
    /// <summary>Builds one Maglev table of <paramref name="size"/> (prime) slots. Entries are the
    /// backends' ids; backends with weight 0 get no slot; with no weight at all every slot is 0.</summary>
    /// <param name="backends">(name, weight, id) per backend; names must be distinct, ids non-zero.</param>
    public static uint[] Populate(IReadOnlyList<(byte[] Name, uint Weight, uint Id)> backends, int size = DsrTables.MaglevTableSize)
    {
        ArgumentNullException.ThrowIfNull(backends);
        if (size < 2 || !IsPrime(size))
            throw new ArgumentOutOfRangeException(nameof(size), size, "the Maglev table size must be a prime");
        var table = new uint[size];
        // A fixed order independent of the caller's: sorted by name.
        var live = backends.Where(b => b.Weight > 0).OrderBy(b => b.Name, ByteArrayComparer.Instance).ToArray();
        if (live.Length == 0)
            return table;
        if (live.Any(b => b.Id == 0))
            throw new ArgumentException("backend id 0 means \"no backend\"", nameof(backends));
        uint maxWeight = live.Max(b => b.Weight);

        int n = live.Length;
        var offset = new long[n];
        var skip = new long[n];
        var next = new long[n];
        var credit = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            offset[i] = (long)(Hash(live[i].Name, Seed1) % (ulong)size);
            skip[i] = (long)(Hash(live[i].Name, Seed2) % (ulong)(size - 1)) + 1;
        }

        var taken = new bool[size];
        int filled = 0;
        while (true)
        {
            for (int i = 0; i < n; i++)
            {
                // Smooth weighted turns: weight / max weight of a turn per round, so every backend's
                // number of slots is within one of its weight share whenever filling stops.
                credit[i] += live[i].Weight;
                while (credit[i] >= maxWeight)
                {
                    credit[i] -= maxWeight;
                    // The backend's next free preferred slot (it exists while filled < size: the
                    // preference list is a permutation of all slots).
                    long c;
                    do
                    {
                        c = (offset[i] + next[i] * skip[i]) % size;
                        next[i]++;
                    } while (taken[c]);
                    taken[c] = true;
                    table[c] = live[i].Id;
                    if (++filled == size)
                        return table;
                }
            }
        }
    }

    /// <summary>The Maglev name of an address: its bytes (IPv4-mapped IPv6 addresses as IPv4).</summary>
    public static byte[] NameOf(IPAddress address) =>
        (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).GetAddressBytes();

    private const ulong Seed1 = 0xcbf29ce484222325ul; // the FNV-1a 64 offset basis
    private const ulong Seed2 = 0x9e3779b97f4a7c15ul;

    /// <summary>FNV-1a 64 from <paramref name="seed"/>, then murmur3's fmix64.</summary>
    internal static ulong Hash(ReadOnlySpan<byte> data, ulong seed)
    {
        ulong h = seed;
        foreach (var b in data)
        {
            h ^= b;
            h *= 0x100000001b3ul;
        }
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdul;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ul;
        h ^= h >> 33;
        return h;
    }

    private static bool IsPrime(int n)
    {
        if (n < 2)
            return false;
        for (int d = 2; (long)d * d <= n; d++)
            if (n % d == 0)
                return false;
        return true;
    }

    private sealed class ByteArrayComparer : IComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y.AsSpan());
    }
}

/// <summary>
/// Builds the <see cref="DsrTables"/> the datapath needs from the configured services. Ids are
/// stable: give the previous tables and every service (same VIP, port, protocol) and backend (same
/// address) keeps its id, so the datapath's connection table, which stores backend ids, stays valid
/// across rebuilds; new ones get the lowest free id (from 1; 0 means "none").
/// </summary>
public static class DsrTableBuilder
{
    public static DsrTables Build(IEnumerable<DsrServiceConfig> services, DsrTables? previous = null,
        int tableSize = DsrTables.MaglevTableSize)
    {
        ArgumentNullException.ThrowIfNull(services);
        var configs = services.ToList();
        var errors = new List<string>();
        var seenServices = new HashSet<(IPAddress, ushort, byte)>();
        foreach (var s in configs)
        {
            if (!DsrOptions.IsUnicastFamily(s.Vip))
                errors.Add($"service {s.Vip}:{s.Port}/{s.Protocol}: the VIP must be an IPv4 or IPv6 address");
            if (s.Protocol is not (6 or 17))
                errors.Add($"service {s.Vip}:{s.Port}/{s.Protocol}: protocol must be 6 (TCP) or 17 (UDP)");
            if (!seenServices.Add((s.Vip, s.Port, s.Protocol)))
                errors.Add($"service {s.Vip}:{s.Port}/{s.Protocol}: defined twice");
            var seen = new HashSet<IPAddress>();
            foreach (var b in s.Backends)
            {
                if (!DsrOptions.IsUnicastFamily(b.Address))
                    errors.Add($"service {s.Vip}:{s.Port}/{s.Protocol}: backend {b.Address} must be an IPv4 or IPv6 address");
                else if (s.Vip.AddressFamily == AddressFamily.InterNetworkV6 && b.Address.AddressFamily != AddressFamily.InterNetworkV6)
                    errors.Add($"service {s.Vip}:{s.Port}/{s.Protocol}: backend {b.Address}: an IPv6 VIP needs IPv6 backends (IPv6 in IPv4 is not supported)");
                if (!seen.Add(b.Address))
                    errors.Add($"service {s.Vip}:{s.Port}/{s.Protocol}: backend {b.Address} listed twice");
            }
        }
        if (errors.Count > 0)
            throw new ArgumentException("DSR services rejected:\n" + string.Join("\n", errors), nameof(services));

        // Backend ids: one per address, whatever the number of services that use it.
        var backendIds = new Dictionary<IPAddress, uint>();
        var oldBackends = previous?.Backends.ToDictionary(b => b.Address, b => b.BackendId) ?? [];
        var addresses = configs.SelectMany(s => s.Backends).Select(b => b.Address).Distinct().ToList();
        foreach (var a in addresses)
            if (oldBackends.TryGetValue(a, out var id))
                backendIds[a] = id;
        AssignNew(addresses.Where(a => !backendIds.ContainsKey(a)).OrderBy(a => Maglev.NameOf(a), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))), backendIds);

        var serviceIds = new Dictionary<(IPAddress, ushort, byte), uint>();
        var oldServices = previous?.Services.ToDictionary(s => (s.Vip, s.Port, s.Protocol), s => s.ServiceId) ?? [];
        var keys = configs.Select(s => (s.Vip, s.Port, s.Protocol)).ToList();
        foreach (var k in keys)
            if (oldServices.TryGetValue(k, out var id))
                serviceIds[k] = id;
        AssignNew(keys.Where(k => !serviceIds.ContainsKey(k)), serviceIds);

        var tables = new Dictionary<uint, uint[]>();
        var dsrServices = new List<DsrService>();
        foreach (var s in configs)
        {
            var id = serviceIds[(s.Vip, s.Port, s.Protocol)];
            dsrServices.Add(new DsrService(id, s.Vip, s.Port, s.Protocol));
            tables[id] = Maglev.Populate(s.Backends.Select(b => (Maglev.NameOf(b.Address), b.Weight, backendIds[b.Address])).ToList(), tableSize);
        }
        var dsrBackends = backendIds.Select(kv => new DsrBackend(kv.Value, kv.Key)).OrderBy(b => b.BackendId).ToList();
        return new DsrTables(dsrServices.OrderBy(s => s.ServiceId).ToList(), dsrBackends, tables);
    }

    private static void AssignNew<TKey>(IEnumerable<TKey> fresh, Dictionary<TKey, uint> ids) where TKey : notnull
    {
        var used = ids.Values.ToHashSet();
        uint next = 1;
        foreach (var k in fresh)
        {
            while (used.Contains(next))
                next++;
            ids[k] = next;
            used.Add(next);
        }
    }
}
