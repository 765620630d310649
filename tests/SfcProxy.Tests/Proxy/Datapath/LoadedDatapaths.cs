using System.Collections.Concurrent;
using SfcProxy.Bpf;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// Loaded SFC datapaths kept for the next test. The verifier's pass over xdp_rx costs about half a
/// second per load, and the fixture classes load one per test (hundreds): a test hands its
/// datapath back when it ends, and the next test with the same load parameters gets it with every
/// map cleared (<see cref="ProxyObjects.ClearMaps"/>), which is the state a fresh load leaves.
/// Everything a test writes lives in maps, so nothing else can leak from one test to the next.
/// </summary>
[TestClass]
public static class LoadedDatapaths
{
    private readonly record struct Shape(KeyMode Mode, uint CacheSize, uint LatencyChains);

    private static readonly ConcurrentDictionary<Shape, ConcurrentBag<(BpfPins Pins, ProxyObjects Objects)>> Idle = new();

    // Every datapath loaded here, handed back or not: one a test never disposed (an assertion
    // failed in a helper before its using block began) is unloaded at the end of the run too,
    // rather than leaving its pins in bpffs.
    private static readonly ConcurrentDictionary<ProxyObjects, BpfPins> Loaded = new();

    internal static (BpfPins Pins, ProxyObjects Objects) Rent(KeyMode mode, uint cacheSize, uint latencyChains)
    {
        if (Idle.TryGetValue(new Shape(mode, cacheSize, latencyChains), out var bag) && bag.TryTake(out var idle))
        {
            try
            {
                idle.Objects.ClearMaps();
                return idle;
            }
            catch
            {
                Unload(idle);
                throw;
            }
        }
        var pins = new BpfPins($"test-{Guid.NewGuid():N}"[..17]);
        try
        {
            var objects = ProxyObjects.Load(pins, mode, cacheSize, latencyChains: latencyChains);
            Loaded[objects] = pins;
            return (pins, objects);
        }
        catch
        {
            pins.Remove();
            throw;
        }
    }

    /// <summary>Keeps a datapath <see cref="Rent"/> gave out with these parameters.</summary>
    internal static void Return(KeyMode mode, uint cacheSize, uint latencyChains, BpfPins pins, ProxyObjects objects) =>
        Idle.GetOrAdd(new Shape(mode, cacheSize, latencyChains), _ => []).Add((pins, objects));

    /// <summary>Unloads every datapath loaded here (kept or still out) and removes its pins when the test run ends.</summary>
    [AssemblyCleanup]
    public static void UnloadAll()
    {
        foreach (var bag in Idle.Values)
            bag.Clear();
        foreach (var (objects, pins) in Loaded)
            Unload((pins, objects));
    }

    private static void Unload((BpfPins Pins, ProxyObjects Objects) loaded)
    {
        Loaded.TryRemove(loaded.Objects, out _);
        loaded.Objects.Dispose();
        loaded.Pins.Remove();
    }
}
