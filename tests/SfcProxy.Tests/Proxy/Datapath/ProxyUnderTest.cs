using SfcProxy.Bpf;
using SfcProxy.Proxy.Datapath;
using SfcProxy.Proxy;
using SfcProxy.Proxy.Options;
using SfcProxy.Tests.Proxy.Datapath.Srv6;

namespace SfcProxy.Tests.Proxy.Datapath;

/// <summary>
/// The real proxy objects loaded into the kernel for one test, under a pin directory no other test
/// uses, removed on dispose. Counters are read as deltas from the moment of loading.
/// </summary>
internal sealed class ProxyUnderTest : IDisposable
{
    private readonly BpfPins _pins;
    private readonly uint _cacheSize, _latencyChains;

    public ProxyUnderTest(KeyMode mode, uint consumed = 1, MissPolicy miss = MissPolicy.Drop,
        LabelStackEntry[]? staticStack = null, uint cacheSize = 4096, uint accepted = SfcLimits.AcceptAll,
        byte[]? nshNextHopMac = null, uint latencyChains = SfcLimits.LatencyDefaultChains, uint latencySampleEvery = 1,
        ulong metaMaxAgeNs = 0, uint markMask = 0, bool coarseClock = false, Srv6Options? srv6 = null)
    {
        BpfEnvironmentCheck.Require();
        Mode = mode;
        (_cacheSize, _latencyChains) = (cacheSize, latencyChains);
        var config = new SfcConfig { KeyMode = (uint)mode, MissPolicy = (uint)miss, ConsumedSegments = consumed, AcceptedEncaps = accepted,
            LatencySampleEvery = latencySampleEvery, // 1 by default: every hit recorded, histograms exact
            MetaMaxAgeNs = metaMaxAgeNs, // 0 by default: metadata slots are never taken over
            MetaMarkMask = markMask, MetaMarkShift = markMask == 0 ? 0 : (uint)System.Numerics.BitOperations.TrailingZeroCount(markMask),
            CoarseClock = coarseClock ? 1u : 0u };
        if (staticStack is not null)
        {
            config.StaticLabelCount = (uint)staticStack.Length;
            for (var i = 0; i < staticStack.Length; i++)
                unsafe { config.StaticLabels[i] = staticStack[i].ToNetworkOrder(); }
        }
        unsafe
        {
            // The host writes the egress interface's MAC: here the kernel VNF model's.
            KernelVnf.EgressMac.CopyTo(new Span<byte>(config.EgressMac, 6));
            nshNextHopMac?.CopyTo(new Span<byte>(config.NshNextHopMac, 6));
        }
        config = Srv6Config.Encode(srv6 ?? Srv6Sids.Default, config);
        (_pins, _objects) = LoadedDatapaths.Rent(mode, cacheSize, latencyChains);
        try
        {
            _objects.WriteConfig(config);
        }
        catch
        {
            Dispose(); // the test never sees this instance: its datapath goes back now or never
            throw;
        }
    }

    public KeyMode Mode { get; }

    /// <summary>The loaded datapath, until <see cref="Dispose"/> hands it to the next test: a use
    /// after that would read or write another test's state, so it throws.</summary>
    public ProxyObjects Objects => _returned
        ? throw new ObjectDisposedException(nameof(ProxyUnderTest), "its datapath went back to the pool (LoadedDatapaths) and may be another test's now")
        : _objects;
    public BpfMap Cache => Objects.Cache;

    public RxRun Rx(byte[] frame) => Objects.RunRx(frame);

    /// <summary>The metadata key of a pop (the value in the default mark bits), as the slot's owner holds it.</summary>
    public static uint KeyOf(RxRun rx) =>
        (rx.MetaKey ?? throw new AssertFailedException("metadata mode: xdp_rx left no key")) >> System.Numerics.BitOperations.TrailingZeroCount(SfcLimits.DefaultMarkMask);

    /// <summary>Runs tc_tx the way the egress sees the VNF's frame: in metadata mode with the mark meta_mark set.</summary>
    public TxRun Tx(byte[] frame, RxRun from, uint gsoSize = 0) => Objects.RunTx(frame, from.MetaKey ?? 0, gsoSize);

    public TxRun Tx(byte[] frame, uint mark = 0, uint gsoSize = 0) => Objects.RunTx(frame, mark, gsoSize);

    public IReadOnlyDictionary<Counter, ulong> Counters() => Objects.ReadCounters();

    /// <summary>Counters that are not zero, for assertions that exactly these moved.</summary>
    public Dictionary<Counter, ulong> Moved() =>
        Counters().Where(kv => kv.Value != 0).ToDictionary(kv => kv.Key, kv => kv.Value);

    public int CacheEntries => Objects.CacheKeyMode.Count(Cache);

    /// <summary>Hands the loaded datapath back for the next test (<see cref="LoadedDatapaths"/>).</summary>
    public void Dispose()
    {
        if (!_returned)
            LoadedDatapaths.Return(Mode, _cacheSize, _latencyChains, _pins, _objects);
        _returned = true;
    }

    private readonly ProxyObjects _objects;
    private bool _returned;
}

/// <summary>Fails (never skips) with what is missing when the machine cannot load BPF.</summary>
internal static class BpfEnvironmentCheck
{
    public static void Require()
    {
        try
        {
            BpfEnvironment.EnsureReady(BpfPins.DefaultRoot);
        }
        catch (BpfException e)
        {
            Assert.Fail($"datapath tests need root, bpffs and BTF: {e.Message}");
        }
    }
}
