using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;

namespace SfcProxy.Proxy;

/// <summary>
/// The SFC proxy's three BPF objects (xdp_rx, tc_tx, meta_mark) loaded side by side so that they
/// share the maps pinned under one instance directory. The daemon, the benchmark and the tests all
/// load the datapath through this one class.
/// </summary>
internal sealed class ProxyObjects : IDisposable
{
    private readonly BpfObject _rx, _tx, _mark, _age;

    private ProxyObjects(BpfObject rx, BpfObject tx, BpfObject mark, BpfObject age, BpfPins pins, ICacheKeyMode keyMode)
    {
        (_rx, _tx, _mark, _age) = (rx, tx, mark, age);
        Pins = pins;
        CacheKeyMode = keyMode;
    }

    /// <summary>Where this instance's maps (and links) are pinned.</summary>
    public BpfPins Pins { get; }

    /// <summary>The key mode the caches were sized for.</summary>
    public ICacheKeyMode CacheKeyMode { get; }

    public BpfProgram Rx => _rx.Program(SfcBpfNames.XdpRx.Program);
    public BpfProgram Tx => _tx.Program(SfcBpfNames.TcTx.Program);
    public BpfProgram Mark => _mark.Program(SfcBpfNames.MetaMark.Program);
    /// <summary>The header-hash cache's aging pass (never attached; <see cref="CacheAging"/> runs it).</summary>
    public BpfProgram Age => _age.Program(SfcBpfNames.HashAge.Program);

    public BpfMap Config => _rx.Map(SfcBpfNames.Maps.Config);
    public BpfMap Counters => _rx.Map(SfcBpfNames.Maps.Counters);
    public BpfMap MetaCache => _rx.Map(SfcBpfNames.Maps.MetaCache);
    public BpfMap HashCache => _rx.Map(SfcBpfNames.Maps.HashCache);
    public BpfMap VnfPort => _rx.Map(SfcBpfNames.Maps.VnfPort);
    /// <summary>Per-CPU sequence of the SFC packets xdp_rx cached (metadata keys, latency sampling).</summary>
    public BpfMap PacketSeq => _rx.Map(SfcBpfNames.Maps.MetaSeq);
    /// <summary>VNF latency histograms per chain (LRU per-CPU hash; see <see cref="LatencyHistograms"/>).</summary>
    public BpfMap Latency => _rx.Map(SfcBpfNames.Maps.Latency);

    /// <summary>The cache the key mode uses.</summary>
    public BpfMap Cache => CacheKeyMode.Cache(this);

    // The order of the constructor's arguments.
    private static readonly string[] LoadOrder =
        [SfcBpfNames.XdpRx.Object, SfcBpfNames.TcTx.Object, SfcBpfNames.MetaMark.Object, SfcBpfNames.HashAge.Object];

    /// <summary>Default place of the objects: bpf/ next to the host binary.</summary>
    public static string DefaultObjectDirectory => Path.Combine(AppContext.BaseDirectory, "bpf");

    /// <summary>
    /// Opens and loads the objects. Maps already pinned in the instance directory are
    /// reused (that is how a restarted daemon keeps its cached headers); the cache of the other key
    /// mode is created with one entry, since it stays empty. The metadata cache holds
    /// <see cref="MetadataSlots.Capacity"/>(cacheSize) slots.
    /// </summary>
    /// <param name="latencyChains">max_entries of the latency map: chains whose histograms are
    /// kept (the least recently seen one is evicted for a new one).</param>
    public static ProxyObjects Load(BpfPins pins, KeyMode keyMode, uint cacheSize, string? objectDirectory = null,
        uint latencyChains = SfcLimits.LatencyDefaultChains)
    {
        var dir = objectDirectory ?? DefaultObjectDirectory;
        var opened = new List<BpfObject>();
        var pinsExisted = pins.Exists;
        var keys = ICacheKeyMode.For(keyMode);
        var freshMetaCache = !File.Exists(pins.Path(SfcBpfNames.Maps.MetaCache));
        try
        {
            foreach (var name in LoadOrder)
            {
                var obj = BpfObject.Open(Path.Combine(dir, name + ".bpf.o"), pins.Directory);
                opened.Add(obj);
                // Every object declares the caches (sfc_maps.h), meta_mark too; all must size them
                // identically or libbpf refuses to reuse the pinned map.
                keys.SizeCaches(obj, cacheSize);
                // Every object declares it (sfc_maps.h); all must agree for the pin to be reused.
                obj.SetMaxEntries(SfcBpfNames.Maps.Latency, latencyChains);
                obj.Load();
            }
            var objects = new ProxyObjects(opened[0], opened[1], opened[2], opened[3], pins, keys);
            if (keyMode == KeyMode.Metadata && freshMetaCache)
                MetadataSlots.Prefault(objects.MetaCache);
            return objects;
        }
        catch (BpfException e) when (e.Errno == Errno.EINVAL && pinsExisted)
        {
            foreach (var o in opened)
                o.Dispose();
            // libbpf refuses a pinned map whose size or type differs from this object's.
            throw new BpfException($"{e.Message}{Environment.NewLine}The maps pinned in {pins.Directory} were made with another " +
                $"key mode, cache size or build; `sfcproxy detach --instance {pins.Instance}` removes them (and detaches that instance).", e.Errno, e);
        }
        catch
        {
            foreach (var o in opened)
                o.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes the datapath settings. The metadata cache's ring size and the key's index bits are
    /// filled in here from the loaded map (whatever the caller set), so no writer can disagree
    /// with the map.
    /// </summary>
    public void WriteConfig(in SfcConfig config)
    {
        var written = config;
        written.MetaSlotsPerCpu = MetadataSlots.PerRing(MetaCache.MaxEntries);
        written.MetaIndexBits = MetadataSlots.IndexBits(MetaCache.MaxEntries);
        Config.Update(0u, written);
    }

    /// <summary>Per-CPU counters summed over the CPUs.</summary>
    public IReadOnlyDictionary<Counter, ulong> ReadCounters() => Counters.SumAll(Counter.Max);

    /// <summary>The VNF latency histograms summed over the CPUs.</summary>
    public LatencyReport ReadLatency() =>
        LatencyHistograms.Read(Latency, Config.TryLookup(0u, out SfcConfig config) ? config.LatencySampleEvery : 1);

    /// <summary>
    /// Returns every map of the four objects (pinned and private) to the state a fresh load leaves:
    /// what the tests' pool of loaded datapaths does between tests instead of loading again. A
    /// fresh metadata cache is prefaulted with zeros, so zeroing it is the same state.
    /// </summary>
    public void ClearMaps()
    {
        foreach (var map in AllMaps())
            map.Clear();
    }

    /// <summary>Every map of the four objects, by object, in the objects' own order.</summary>
    public IEnumerable<BpfMap> AllMaps() => new[] { _rx, _tx, _mark, _age }.SelectMany(o => o.Maps());

    /// <summary>The maps these objects pin in the instance directory.</summary>
    public IReadOnlyList<string> PinnedMapNames() =>
        [.. _rx.PinnedMapNames().Concat(_tx.PinnedMapNames()).Concat(_mark.PinnedMapNames()).Distinct()];

    /// <summary>The maps the proxy's objects pin, read from the object files without loading them (for
    /// `sfcproxy detach`, which removes an instance's pins and nothing else).</summary>
    public static IReadOnlyList<string> PinnedMapNames(string? objectDirectory = null)
    {
        var dir = objectDirectory ?? DefaultObjectDirectory;
        var names = new List<string>();
        foreach (var name in new[] { SfcBpfNames.XdpRx.Object, SfcBpfNames.TcTx.Object, SfcBpfNames.MetaMark.Object })
        {
            using var obj = BpfObject.Open(Path.Combine(dir, name + ".bpf.o"), pinRoot: null);
            names.AddRange(obj.PinnedMapNames());
        }
        return [.. names.Distinct()];
    }

    public void Dispose()
    {
        _age.Dispose();
        _mark.Dispose();
        _tx.Dispose();
        _rx.Dispose();
    }
}
